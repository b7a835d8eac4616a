/**
 * The store's CA, pinned in the user's configuration on first use (as SSH pins host keys in
 * known_hosts): anyone who can push to the store could replace ca/root.pem with a CA of their own,
 * so every command that trusts the store's CA compares its root with pkictl.caFingerprint first.
 */
import {X509Certificate} from 'node:crypto';
import {denied, editConfig, usageError} from '@bcl/core';
import {certificateFingerprint, normalizeFingerprint} from '@bcl/pki-ca/keys';
import pkictlNamespace, {type PkictlSettings} from '../config.js';
import type {GitStore} from '../store/git.js';
import {type CaChain, loadCa} from '../store/pki.js';
import type {PkiIo} from './io.js';

const KEY = 'pkictl.caFingerprint';

export interface PinnedRoot {
  fingerprint: string;
  /** Whether this run pinned it (first use, confirmed by the user). */
  pinnedNow: boolean;
}

/**
 * Checks a root CA certificate against the pin. No pin yet: interactive, the fingerprint is shown
 * and, once the user accepts it, written to their config file; non-interactive, it must be given
 * (--ca-fingerprint or pkictl.caFingerprint). A different root is refused naming both fingerprints.
 * `source` says where the root came from ("the store /srv/pki.git", "the chain of 4F3A...").
 */
export async function requireTrustedRoot(io: PkiIo, settings: PkictlSettings, rootPem: string, source: string): Promise<PinnedRoot> {
  const root = new X509Certificate(rootPem);
  const fingerprint = certificateFingerprint(root);
  const name = root.subject.replace(/\n/g, ', ');
  const pinned = settings.caFingerprint ? normalizeFingerprint(settings.caFingerprint) : undefined;
  if (pinned) {
    if (pinned === fingerprint) return {fingerprint, pinnedNow: false};
    const origin = io.config.entry(KEY)?.origin.label ?? KEY;
    throw denied('pkictl.ca_changed', `the CA of ${source} is not the one you pinned: its root (${name}) has SHA-256 fingerprint ${fingerprint}, but ${KEY} is ${pinned} (${origin})`, {
      hint: `If your CA admin announced a new CA, compare its fingerprint with them, then run \`bcl config set ${KEY} ${fingerprint}\`. Otherwise someone replaced the store's CA: use nothing from it and tell your CA admin.`,
      details: {key: KEY, pinned, found: fingerprint, source},
    });
  }
  if (!io.prompt.interactive) {
    throw usageError(`the CA of ${source} is not pinned yet: its root (${name}) has SHA-256 fingerprint ${fingerprint}; give --ca-fingerprint or set ${KEY} (not prompting in a non-interactive run)`, {
      hint: `Compare the fingerprint with the one your CA admin published, then pass --ca-fingerprint ${fingerprint} or run \`bcl config set ${KEY} ${fingerprint}\`.`,
      details: {key: KEY, flag: '--ca-fingerprint', found: fingerprint, source},
    }, 'usage.missing_input');
  }
  io.ui.warn(`The CA of ${source} is not known on this machine yet.\n  root:        ${name}\n  SHA-256:     ${fingerprint}\nCompare the fingerprint with the one your CA admin published before you trust it.`);
  const yes = await io.prompt.confirm({message: 'Trust this CA and remember it?', flag: '--ca-fingerprint', default: false});
  if (!yes) {
    throw denied('pkictl.ca_not_trusted', `you did not trust the CA of ${source} (SHA-256 ${fingerprint}); nothing was done`, {
      hint: `Once you have checked the fingerprint, pass --ca-fingerprint ${fingerprint} or run \`bcl config set ${KEY} ${fingerprint}\`.`,
    });
  }
  const file = await pinRoot(io, fingerprint);
  io.ui.info(`Pinned ${KEY} = ${fingerprint} in ${file}.`);
  return {fingerprint, pinnedNow: true};
}

/**
 * Writes the pin into the user's own config file (in the active profile's section when one is
 * selected), with bcl's config editing: validated, atomic, comments kept. Returns the file.
 */
export async function pinRoot(io: PkiIo, fingerprint: string): Promise<string> {
  const {result} = await editConfig(
    {key: KEY, raw: fingerprint, target: 'user', ...(io.config.profile ? {profile: io.config.profile} : {})},
    {namespaces: [pkictlNamespace], env: io.env, cwd: io.cwd, paths: io.paths},
  );
  return result.file;
}

/** The store's CA chain, once its root matches the pin (see requireTrustedRoot). */
export async function loadTrustedCa(io: PkiIo, settings: PkictlSettings, store: GitStore): Promise<CaChain> {
  const ca = await loadCa(store);
  await requireTrustedRoot(io, settings, ca.root.pem, `the store ${store.url}`);
  return ca;
}
