import {existsSync, readFileSync, renameSync, rmSync} from 'node:fs';
import {dirname, resolve} from 'node:path';
import type {KeyObject} from 'node:crypto';
import {conflict, denied, invalidInput} from '@bcl/core';
import {checkSecretTarget, writeSecretFileSync} from '@bcl/files';
import type {KeyType} from '@bcl/pki-local';
import type {PkictlSettings} from '../config.js';
import {X509Certificate} from 'node:crypto';
import {certificateFingerprint, normalizeFingerprint} from '@bcl/pki-ca/keys';
import {defaultPolicyYaml, parsePolicy, type Policy} from '@bcl/pki-ca/policy';
import {exportPrivateKey, generateKey, keysMatch, loadPrivateKeyFile} from '../crypto/keys.js';
import {type CaChain, inventoryWrites, loadPolicy, signedWrites} from '../store/pki.js';
import {PATHS} from '../store/records.js';
import {isRemoteUrl} from '../store/git.js';
import {withCaErrors} from './ca-errors.js';
import {loadTrustedCa, pinRoot} from './ca-pin.js';
import {type PkiIo, readSecret, withStore} from './io.js';

export interface PassphraseFlags {
  passphraseFile?: string | undefined;
  passphraseEnv?: string | undefined;
}

export interface CaInitParams extends PassphraseFlags {
  name: string;
  keyType: KeyType;
  caKeyFile: string;
  /** Also create an intermediate CA; the root key then goes to rootKeyFile (keep it offline). */
  rootKeyFile?: string | undefined;
  emailDomains: string[];
  /** The initial policy (validated); default: pkictl's, with emailDomains. */
  policyFile?: string | undefined;
  rootDays: number;
  intermediateDays: number;
}

export interface CaInitResult {
  store: string;
  name: string;
  keyType: KeyType;
  root: {subject: string; serial: string; notAfter: string};
  intermediate: {subject: string; serial: string; notAfter: string} | null;
  /** The root certificate's SHA-256 fingerprint: what requesters pin (pkictl.caFingerprint). */
  caFingerprint: string;
  /** Where this run pinned it for the admin, or null when another CA was pinned already. */
  pinnedIn: string | null;
  caKey: string;
  rootKey: string | null;
  policy: string;
  commit: string;
}

export async function caInit(io: PkiIo, settings: PkictlSettings, params: CaInitParams): Promise<CaInitResult> {
  if (params.keyType === 'ed25519') {
    throw invalidInput('pkictl.key_type', '--key-type: a CA key is ecdsa-p256 or rsa-3072 (Ed25519 CAs are not accepted by every client)', {details: {flag: '--key-type'}});
  }
  const caKeyFile = resolve(io.cwd, params.caKeyFile);
  const rootKeyFile = params.rootKeyFile ? resolve(io.cwd, params.rootKeyFile) : undefined;
  for (const [file, flag] of [[caKeyFile, '--ca-key'], ...(rootKeyFile ? [[rootKeyFile, '--root-key']] : [])] as const) {
    if (existsSync(file)) throw conflict('pkictl.key_exists', `${flag}: ${file} already exists; refusing to overwrite a CA key`, {hint: 'Choose another file, or move the old key away first.', details: {flag, file}});
    // A symlink there (also a dangling one) is refused too (@bcl/files' rule for secrets).
    checkSecretTarget(file);
    if (!existsSync(dirname(file))) throw invalidInput('pkictl.key_dir', `${flag}: the directory ${dirname(file)} does not exist`, {details: {flag}});
  }
  if (rootKeyFile && rootKeyFile === caKeyFile) throw invalidInput('pkictl.key_file', '--root-key and --ca-key must be different files', {});
  let policyText = defaultPolicyYaml(params.emailDomains);
  if (params.policyFile) {
    const file = resolve(io.cwd, params.policyFile);
    if (!existsSync(file)) throw invalidInput('pkictl.policy_missing', `--policy: ${file} does not exist`, {details: {flag: '--policy'}});
    if (params.emailDomains.length) throw invalidInput('pkictl.policy_conflict', '--email-domain and --policy: give the email domains in the policy file', {details: {flag: '--email-domain'}});
    policyText = readFileSync(file, 'utf8');
    await withCaErrors(() => parsePolicy(policyText, file));
  }
  const passphrase = await readSecret(io, {
    file: params.passphraseFile,
    envVar: params.passphraseEnv,
    fileFlag: '--passphrase-file',
    envFlag: '--passphrase-env',
    message: 'Passphrase for the new CA key:',
    confirm: true,
    minLength: 8,
  });
  // A store path that did not exist is created for the CA; if the CA is not made, it goes again.
  const createdStore = settings.store && !isRemoteUrl(settings.store) && !existsSync(resolve(io.cwd, settings.store)) ? resolve(io.cwd, settings.store) : undefined;
  try {
    return await initInStore(io, settings, params, caKeyFile, rootKeyFile, passphrase, policyText);
  } catch (error) {
    if (createdStore) rmSync(createdStore, {recursive: true, force: true});
    throw error;
  }
}

async function initInStore(
  io: PkiIo,
  settings: PkictlSettings,
  params: CaInitParams,
  caKeyFile: string,
  rootKeyFile: string | undefined,
  passphrase: string,
  policyText: string,
): Promise<CaInitResult> {
  const {buildCaCertificate, buildCrl, permittedNames} = await import('@bcl/pki-ca');
  return withStore(
    io,
    settings,
    async (store) => {
      if (!store.empty || store.exists(PATHS.root)) {
        throw conflict('pkictl.store_initialized', `the store ${store.url} already has content; a CA is initialized only in an empty repository`, {
          hint: 'Use a new, empty repository (pkictl ca init creates a bare one when the path does not exist).',
        });
      }
      const now = io.now();
      const policy = parsePolicy(policyText, PATHS.policy);
      const day = 86_400_000;
      const rootKey = await generateKey(params.keyType);
      const rootPem = await buildCaCertificate({commonName: params.name, key: rootKey.privateKey, days: params.rootDays, pathLength: rootKeyFile ? 1 : 0, now});
      const root = {certPem: rootPem, key: rootKey.privateKey};
      let intermediatePem: string | undefined;
      let issuer = root;
      let rootCrl: string | undefined;
      const keyFiles: {file: string; key: KeyObject}[] = [];
      if (rootKeyFile) {
        const interKey = await generateKey(params.keyType);
        // The intermediate may sign only the names the policy issues, and says where the root's CRL is.
        intermediatePem = await buildCaCertificate({
          commonName: `${params.name} Intermediate`,
          key: interKey.privateKey,
          days: params.intermediateDays,
          pathLength: 0,
          issuer: root,
          permittedNames: permittedNames(policy),
          revocation: {crlUrl: policy.revocation.rootCrlUrl, caCertUrl: policy.revocation.rootCertUrl},
          now,
        });
        issuer = {certPem: intermediatePem, key: interKey.privateKey};
        // The root's own CRL, so relying parties can check the intermediate too (openssl -crl_check_all).
        rootCrl = await buildCrl({issuer: root, number: 1, thisUpdate: now, nextUpdate: new Date(now.getTime() + policy.rootCrlValidityDays * day), entries: [], scope: 'ca-certificates', url: policy.revocation.rootCrlUrl});
        keyFiles.push({file: caKeyFile, key: interKey.privateKey}, {file: rootKeyFile, key: rootKey.privateKey});
      } else {
        keyFiles.push({file: caKeyFile, key: rootKey.privateKey});
      }
      const crl = await buildCrl({issuer, number: 1, thisUpdate: now, nextUpdate: new Date(now.getTime() + policy.crlValidityDays * day), entries: []});
      // Keys are written under temporary names first and kept only once the store accepted the CA.
      const temps = keyFiles.map(({file, key}) => {
        const tmp = `${file}.partial-${process.pid}`;
        writeSecretFileSync(tmp, exportPrivateKey(key, passphrase), {overwrite: false});
        return {tmp, file};
      });
      try {
        await store.commit(`ca init: ${params.name}${rootKeyFile ? ' (root and intermediate)' : ''}`, () => ({
          writes: [
            {path: PATHS.root, content: rootPem},
            ...(intermediatePem ? [{path: PATHS.intermediate, content: intermediatePem}] : []),
            {path: PATHS.chain, content: [intermediatePem, rootPem].filter(Boolean).map((p) => p!.trim()).join('\n') + '\n'},
            ...signedWrites(PATHS.policy, PATHS.policySig, policyText, issuer.key),
            ...inventoryWrites({version: 1, crlNumber: 1, certificates: []}, issuer.key),
            {path: PATHS.crl, content: crl},
            ...(rootCrl ? [{path: PATHS.rootCrl, content: rootCrl}] : []),
            {path: PATHS.readme, content: storeReadme(params.name)},
          ],
          result: undefined,
        }));
      } catch (error) {
        for (const t of temps) rmSync(t.tmp, {force: true});
        throw error;
      }
      for (const t of temps) renameSync(t.tmp, t.file);
      const describe = (pem: string) => {
        const c = new X509Certificate(pem);
        return {subject: c.subject.replace(/\n/g, ', '), serial: c.serialNumber.toUpperCase(), notAfter: new Date(c.validTo).toISOString()};
      };
      // The admin who made the CA trusts it: pin it for them, unless they already pinned another one.
      const caFingerprint = certificateFingerprint(rootPem);
      const pinned = settings.caFingerprint ? normalizeFingerprint(settings.caFingerprint) : undefined;
      let pinnedIn: string | null = null;
      if (!pinned) pinnedIn = await pinRoot(io, caFingerprint);
      else if (pinned !== caFingerprint) io.ui.warn(`pkictl.caFingerprint pins another CA (${pinned}); it was left as it is. Use a configuration profile for this store, with pkictl.caFingerprint ${caFingerprint}.`);
      return {
        store: store.url,
        name: params.name,
        keyType: params.keyType,
        root: describe(rootPem),
        intermediate: intermediatePem ? describe(intermediatePem) : null,
        caFingerprint,
        pinnedIn,
        caKey: caKeyFile,
        rootKey: rootKeyFile ?? null,
        policy: PATHS.policy,
        commit: await store.head(),
      };
    },
    {createIfMissing: true},
  );
}

function storeReadme(name: string): string {
  return `# PKI store: ${name}

Managed by \`pkictl\`; do not edit by hand (the policy and the inventory are signed by the CA).

- \`ca/\`: CA certificates (\`root.pem\`, \`intermediate.pem\` when there is one, \`chain.pem\`) and \`policy.yaml\`
- \`requests/<id>/\`: certificate requests (\`csr.pem\`, \`request.json\`)
- \`certs/<serial>.pem\`: issued certificates (serials as \`openssl x509 -serial\` prints them)
- \`inventory.json\`: every certificate with its status
- \`crl/crl.pem\`: the current certificate revocation list (\`crl/root.pem\`: the root's, with an intermediate)
`;
}

export interface AdminKey {
  key: KeyObject;
  /** Who acts: pkictl.email of the admin, or "CA admin". */
  actor: string;
}

/**
 * Loads the CA key for an admin operation: decrypts it, checks that it is the key of the store's
 * issuing CA (or, with `root`, of its root: --root-key), and that the admin is one of the policy's approvers.
 */
export async function loadAdminKey(
  io: PkiIo,
  settings: PkictlSettings,
  ca: CaChain,
  policy: Policy,
  flags: PassphraseFlags & {caKeyFile?: string | undefined; rootKeyFile?: string | undefined},
  which: 'issuer' | 'root' = 'issuer',
): Promise<AdminKey> {
  const flag = which === 'root' ? '--root-key' : '--ca-key';
  const file = which === 'root' ? flags.rootKeyFile : (flags.caKeyFile ?? settings.caKey);
  if (!file) {
    throw which === 'root'
      ? denied('pkictl.root_key_required', 'this needs the root CA key: give --root-key with the (offline) root key file', {hint: 'Only the CA admin holds the root key.'})
      : denied('pkictl.ca_key_required', 'this is a CA operation: give --ca-key (or set pkictl.caKey) with the CA key file', {hint: 'Only the CA admin holds the CA key.'});
  }
  const path = resolve(io.cwd, file);
  if (!existsSync(path)) throw invalidInput(`pkictl.${which === 'root' ? 'root' : 'ca'}_key_missing`, `${flag}: ${path} does not exist`, {details: {flag}});
  if (policy.approvers.length > 0) {
    const who = settings.email?.toLowerCase();
    if (!who || !policy.approvers.map((a) => a.toLowerCase()).includes(who)) {
      throw denied('pkictl.not_approver', `${who ?? 'you (no pkictl.email set)'} may not approve for this CA: ${PATHS.policy} lists approvers ${policy.approvers.join(', ')}`, {
        hint: 'Set pkictl.email (or --email) to your approver address.',
      });
    }
  }
  const pem = readFileSync(path, 'utf8');
  const passphrase = pem.includes('ENCRYPTED PRIVATE KEY')
    ? await readSecret(io, {file: flags.passphraseFile, envVar: flags.passphraseEnv, fileFlag: '--passphrase-file', envFlag: '--passphrase-env', message: `Passphrase for ${path}:`})
    : undefined;
  const key = loadPrivateKeyFile(pem, path, passphrase);
  const expected = which === 'root' ? ca.root : ca.issuer;
  if (!keysMatch(key, expected.cert.publicKey)) {
    throw denied(`pkictl.${which === 'root' ? 'root' : 'ca'}_key_mismatch`, `${path} is not the key of this store's ${which === 'root' ? 'root' : 'issuing'} CA (${expected.cert.subject})`, {
      hint: `Give the ${which === 'root' ? 'root' : 'CA'} key that \`pkictl ca init\` wrote for this store.`,
    });
  }
  return {key, actor: settings.email ?? 'CA admin'};
}

export interface CaPolicyParams extends PassphraseFlags {
  setFile?: string | undefined;
  caKeyFile?: string | undefined;
}

export interface CaPolicyResult {
  policy: Policy;
  changed: boolean;
  file: string;
}

/** Shows the store's policy, or validates, signs and commits a new one. */
export async function caPolicy(io: PkiIo, settings: PkictlSettings, params: CaPolicyParams): Promise<CaPolicyResult> {
  let newText: string | undefined;
  let newPolicy: Policy | undefined;
  if (params.setFile) {
    const path = resolve(io.cwd, params.setFile);
    if (!existsSync(path)) throw invalidInput('pkictl.policy_missing', `--set: ${path} does not exist`, {details: {flag: '--set'}});
    const text = readFileSync(path, 'utf8');
    newText = text;
    newPolicy = await withCaErrors(() => parsePolicy(text, path));
  }
  return withStore(io, settings, async (store) => {
    const ca = await loadTrustedCa(io, settings, store);
    if (!newText || !newPolicy) return {policy: await loadPolicy(store, ca), changed: false, file: PATHS.policy};
    // Setting a policy is also how a broken or tampered one is repaired: when the current one
    // cannot be trusted, the new one's approvers decide (the CA key is required either way).
    const current = await loadPolicy(store, ca).catch(() => newPolicy);
    const admin = await loadAdminKey(io, settings, ca, current, params);
    const text = newText;
    await store.commit(`policy: updated by ${admin.actor}`, () => ({writes: signedWrites(PATHS.policy, PATHS.policySig, text, admin.key), result: undefined}));
    return {policy: newPolicy, changed: true, file: PATHS.policy};
  });
}

