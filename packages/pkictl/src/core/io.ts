import {existsSync, readFileSync, statSync} from 'node:fs';
import {join, resolve} from 'node:path';
import {type BclPaths, type ConfigEntry, type Env, type HttpClient, invalidInput, type Prompter, type Redactor, type Ui, usageError} from '@bcl/core';
import {credentialsDir} from '@bcl/pki-local';
import type {PkictlSettings} from '../config.js';
import {GitStore, type StoreIdentity} from '../store/git.js';
import {withCaErrors} from './ca-errors.js';

/** What the core needs from the outside world; commands pass theirs, tests pass their own. */
export interface PkiIo {
  env: Env;
  cwd: string;
  paths: BclPaths;
  ui: Ui;
  prompt: Prompter;
  redactor: Redactor;
  signal: AbortSignal;
  now: () => Date;
  /** pkictl's version (sent to the PKI server). */
  version: string;
  /** HTTP with bcl's proxy and timeout settings (the PKI server). */
  http(options?: {tls?: {ca?: string | Buffer}}): HttpClient;
  /** The resolved configuration: its profile, and where a value came from (for messages). */
  config: {readonly profile: string | undefined; entry(key: string): ConfigEntry | undefined};
}

export function storeOf(settings: PkictlSettings): string {
  if (!settings.store) {
    throw usageError('no PKI store given: pass --store or set pkictl.store', {
      hint: 'bcl config set pkictl.store <path or git URL>',
    }, 'usage.missing_input');
  }
  return settings.store;
}

export function emailOf(settings: PkictlSettings, purpose: string): string {
  if (!settings.email) {
    throw usageError(`no email given for ${purpose}: pass --email or set pkictl.email`, {hint: 'bcl config set pkictl.email you@example.com'}, 'usage.missing_input');
  }
  return settings.email;
}

export function identityOf(settings: PkictlSettings): StoreIdentity {
  const email = settings.email ?? 'pkictl@localhost';
  return {email, name: settings.name ?? email};
}

export async function openStore(io: PkiIo, settings: PkictlSettings, options: {createIfMissing?: boolean} = {}): Promise<GitStore> {
  return GitStore.open({
    store: storeOf(settings),
    cwd: io.cwd,
    cacheDir: join(io.paths.cache, 'pkictl'),
    identity: identityOf(settings),
    signal: io.signal,
    ...(options.createIfMissing ? {createIfMissing: true} : {}),
    debug: (m) => io.ui.debug(m),
  });
}

/** Opens the store, runs `fn`, and always releases the working clone. */
export async function withStore<T>(io: PkiIo, settings: PkictlSettings, fn: (store: GitStore) => Promise<T>, options: {createIfMissing?: boolean} = {}): Promise<T> {
  const store = await openStore(io, settings, options);
  try {
    return await withCaErrors(() => fn(store));
  } finally {
    store.close();
  }
}

export function localCredentialsDir(io: PkiIo): string {
  return credentialsDir(io.env);
}

export interface SecretSource {
  /** A file holding the secret (first line). */
  file?: string | undefined;
  /** The name of an environment variable holding it. */
  envVar?: string | undefined;
  /** Flag names, for messages. */
  fileFlag: string;
  envFlag: string;
  /** What the prompt asks. */
  message: string;
  /** Ask twice when creating a new secret. */
  confirm?: boolean;
  minLength?: number;
}

/** Reads a passphrase from a file, an environment variable, or a prompt; registers it for redaction. */
export async function readSecret(io: PkiIo, source: SecretSource): Promise<string> {
  let secret: string;
  if (source.file) {
    const file = resolve(io.cwd, source.file);
    if (!existsSync(file) || !statSync(file).isFile()) throw invalidInput('pkictl.passphrase_file', `${source.fileFlag}: ${file} does not exist`, {details: {flag: source.fileFlag}});
    secret = readFileSync(file, 'utf8').split(/\r?\n/)[0] ?? '';
  } else if (source.envVar) {
    const value = io.env[source.envVar];
    if (value === undefined || value === '') throw invalidInput('pkictl.passphrase_env', `${source.envFlag}: the environment variable ${source.envVar} is not set`, {details: {flag: source.envFlag}});
    secret = value;
  } else {
    secret = await io.prompt.password({message: source.message, flag: `${source.fileFlag} or ${source.envFlag}`});
    if (source.confirm) {
      const again = await io.prompt.password({message: 'Repeat it:', flag: source.fileFlag});
      if (again !== secret) throw invalidInput('pkictl.passphrase_mismatch', 'the two passphrases differ', {hint: 'Run the command again.'});
    }
  }
  if (secret.length < (source.minLength ?? 1)) {
    throw invalidInput('pkictl.passphrase_short', `the passphrase from ${source.file ? source.fileFlag : source.envVar ? source.envFlag : 'the prompt'} is too short: at least ${source.minLength ?? 1} characters`, {});
  }
  io.redactor.add(secret);
  return secret;
}
