import {createPrivateKey, createPublicKey, type KeyObject, X509Certificate} from 'node:crypto';
import {chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {StagedDirectory, writeFileAtomicSync} from '@bcl/files';
import {type CredentialPaths, credentialPaths, credentialsDir, type Env, FILES, isRequestId, LAYOUT_VERSION, normalizeSerial} from './layout.js';

export type KeyType = 'ecdsa-p256' | 'rsa-3072' | 'ed25519';

/** credential.json: what pkictl knows about one request and its certificate. */
export interface CredentialMeta {
  version: number;
  /** The request id in the store. */
  id: string;
  /** The store the request was sent to (a path or git URL). */
  store: string;
  email: string;
  name: string;
  profile: string;
  keyType: KeyType;
  /** Whether key.pem is encrypted (PKCS#8 with a passphrase). */
  encrypted: boolean;
  requestedAt: string;
  /** Set by `pkictl fetch`. */
  serial?: string;
  fetchedAt?: string;
  /** The serial this request renews (pkictl renew). */
  renews?: string;
  /** Set on the old credential once its renewal is fetched. */
  supersededBy?: string;
}

/** A local credential as found on disk: paths plus what its certificate says. */
export interface LocalCredential {
  id: string;
  dir: string;
  keyPath: string;
  /** Present once the certificate was fetched. */
  certPath?: string;
  chainPath?: string;
  meta: CredentialMeta;
  encrypted: boolean;
  /** From the certificate when fetched (upper-case hex, as openssl prints it). */
  serial?: string;
  subject?: string;
  issuer?: string;
  email: string;
  profile: string;
  notBefore?: Date;
  notAfter?: Date;
  /**
   * pending: no certificate yet; valid: within its validity period; expired/not-yet-valid;
   * superseded: renewed by a newer credential; mismatch: cert.pem does not belong to key.pem.
   */
  state: 'pending' | 'valid' | 'expired' | 'not-yet-valid' | 'superseded' | 'mismatch';
}

export interface ListOptions {
  env?: Env;
  /** Overrides the credentials directory (default: $XDG_DATA_HOME/bcl/pkictl/credentials). */
  dir?: string;
  now?: Date;
}

/** Every credential directory that holds a key and valid metadata, newest request first. */
export function listCredentials(options: ListOptions = {}): LocalCredential[] {
  const root = options.dir ?? credentialsDir(options.env);
  if (!existsSync(root)) return [];
  const now = options.now ?? new Date();
  const found: LocalCredential[] = [];
  for (const entry of readdirSync(root, {withFileTypes: true})) {
    if (!entry.isDirectory() || !isRequestId(entry.name)) continue;
    const credential = readCredential(credentialPaths(root, entry.name), now);
    if (credential) found.push(credential);
  }
  // ISO 8601 times of one format: code-point order is time order (and loads no ICU collator).
  return found.sort((a, b) => (a.meta.requestedAt < b.meta.requestedAt ? 1 : a.meta.requestedAt > b.meta.requestedAt ? -1 : 0));
}

export interface FindOptions extends ListOptions {
  serial?: string;
  email?: string;
  profile?: string;
  /** Only credentials that are valid for at least this many more milliseconds. */
  minRemainingMs?: number;
}

/**
 * The usable credential (certificate fetched, key present and matching, within its validity
 * period, not superseded) for a serial, or for an email and/or profile: the one that expires last.
 */
export function findCredential(options: FindOptions = {}): LocalCredential | undefined {
  const now = options.now ?? new Date();
  const serial = options.serial === undefined ? undefined : normalizeSerial(options.serial);
  if (options.serial !== undefined && serial === undefined) return undefined;
  const email = options.email?.toLowerCase();
  const usable = listCredentials(options).filter(
    (c) =>
      c.state === 'valid' &&
      (serial === undefined || c.serial === serial) &&
      (email === undefined || c.email.toLowerCase() === email) &&
      (options.profile === undefined || c.profile === options.profile) &&
      (options.minRemainingMs === undefined || (c.notAfter?.getTime() ?? 0) - now.getTime() >= options.minRemainingMs),
  );
  return usable.sort((a, b) => (b.notAfter?.getTime() ?? 0) - (a.notAfter?.getTime() ?? 0))[0];
}

/** Loads a credential's private key; an encrypted key needs its passphrase. */
export function loadPrivateKey(credential: Pick<LocalCredential, 'keyPath'>, passphrase?: string): KeyObject {
  const pem = readFileSync(credential.keyPath);
  return passphrase === undefined ? createPrivateKey(pem) : createPrivateKey({key: pem, format: 'pem', passphrase});
}

function readCredential(paths: CredentialPaths, now: Date): LocalCredential | undefined {
  if (!existsSync(paths.keyPath) || !existsSync(paths.metaPath)) return undefined;
  let meta: CredentialMeta;
  try {
    meta = parseMeta(readFileSync(paths.metaPath, 'utf8'));
  } catch {
    return undefined;
  }
  const base: LocalCredential = {
    id: meta.id,
    dir: paths.dir,
    keyPath: paths.keyPath,
    meta,
    encrypted: meta.encrypted,
    email: meta.email,
    profile: meta.profile,
    state: 'pending',
  };
  if (!existsSync(paths.certPath)) return base;
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(readFileSync(paths.certPath));
  } catch {
    return {...base, state: 'mismatch'};
  }
  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  const credential: LocalCredential = {
    ...base,
    certPath: paths.certPath,
    ...(existsSync(paths.chainPath) ? {chainPath: paths.chainPath} : {}),
    serial: normalizeSerial(cert.serialNumber) ?? cert.serialNumber,
    subject: cert.subject,
    issuer: cert.issuer,
    notBefore,
    notAfter,
  };
  if (!publicKeyMatches(cert, paths.publicKeyPath)) credential.state = 'mismatch';
  else if (meta.supersededBy) credential.state = 'superseded';
  else if (now < notBefore) credential.state = 'not-yet-valid';
  else if (now > notAfter) credential.state = 'expired';
  else credential.state = 'valid';
  return credential;
}

function publicKeyMatches(cert: X509Certificate, publicKeyPath: string): boolean {
  if (!existsSync(publicKeyPath)) return false;
  try {
    const expected = createPublicKey(readFileSync(publicKeyPath)).export({type: 'spki', format: 'der'});
    return cert.publicKey.export({type: 'spki', format: 'der'}).equals(expected);
  } catch {
    return false;
  }
}

const KEY_TYPES: readonly KeyType[] = ['ecdsa-p256', 'rsa-3072', 'ed25519'];

/** Parses credential.json, checking the fields readers rely on. */
export function parseMeta(text: string): CredentialMeta {
  const raw = JSON.parse(text) as Partial<CredentialMeta>;
  const str = (k: keyof CredentialMeta) => {
    if (typeof raw[k] !== 'string' || raw[k] === '') throw new Error(`credential.json: ${k} must be a non-empty string`);
  };
  (['id', 'store', 'email', 'name', 'profile', 'requestedAt'] as const).forEach(str);
  if (typeof raw.version !== 'number' || raw.version > LAYOUT_VERSION) throw new Error(`credential.json: unsupported version ${String(raw.version)}`);
  if (!KEY_TYPES.includes(raw.keyType as KeyType)) throw new Error(`credential.json: keyType must be one of ${KEY_TYPES.join(', ')}`);
  if (typeof raw.encrypted !== 'boolean') throw new Error('credential.json: encrypted must be a boolean');
  return raw as CredentialMeta;
}

// ---- writing (pkictl) -------------------------------------------------------------------------

/** Creates the credential directory of a new request (0700 all the way down from bcl/pkictl). */
export function createCredentialDir(root: string, id: string): CredentialPaths {
  const paths = credentialPaths(root, id);
  mkdirSync(paths.dir, {recursive: true, mode: 0o700});
  for (let dir = paths.dir; dir !== dirname(dirname(root)); dir = dirname(dir)) chmodSync(dir, 0o700);
  return paths;
}

/** A credential's files, by their role (FILES names them). */
export type CredentialFile = Exclude<keyof typeof FILES, 'meta'>;

/**
 * A new credential, built in a staging directory beside the others and published whole under
 * its request id (StagedDirectory): a listing, or a crash, never leaves a key without its
 * metadata, and each file is written once (the key 0600, the others 0644). Call discard() in a
 * `finally`.
 */
export class CredentialStage {
  readonly #root: string;
  readonly #dir: StagedDirectory;
  #paths: CredentialPaths | undefined;

  private constructor(root: string) {
    this.#root = root;
    this.#dir = StagedDirectory.create(root);
  }

  /** Starts a credential in `root` (the credentials directory). */
  static create(root: string): CredentialStage {
    return new CredentialStage(root);
  }

  write(file: CredentialFile, data: string): void {
    this.#dir.write(FILES[file], data, file === 'key' ? 0o600 : 0o644);
  }

  /** Writes credential.json: the request's id must be known (from the store or the server). */
  writeMeta(meta: CredentialMeta): void {
    const paths = credentialPaths(this.#root, meta.id);
    this.#dir.write(FILES.meta, metaText(meta), 0o644);
    this.#paths = paths;
  }

  /** Makes the credential the one of the id its metadata names; returns its paths. */
  publish(): CredentialPaths {
    if (this.#paths === undefined) throw new Error('a credential is published with its metadata (writeMeta)');
    this.#dir.publish(this.#paths.dir);
    return this.#paths;
  }

  discard(): void {
    this.#dir.discard();
  }
}

export function writeMeta(paths: CredentialPaths, meta: CredentialMeta): void {
  writeFileAtomicSync(paths.metaPath, metaText(meta), {mode: 0o644});
}

/** credential.json's text, as every writer of it writes it. */
function metaText(meta: CredentialMeta): string {
  return `${JSON.stringify(meta, null, 2)}\n`;
}

export function readMeta(paths: CredentialPaths): CredentialMeta {
  return parseMeta(readFileSync(paths.metaPath, 'utf8'));
}

/** Whether a file's mode lets anyone but its owner read it. */
export function isGroupOrWorldReadable(path: string): boolean {
  return (statSync(path).mode & 0o077) !== 0;
}
