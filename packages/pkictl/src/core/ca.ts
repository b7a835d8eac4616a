import {existsSync, readFileSync, renameSync, rmSync} from 'node:fs';
import {dirname, resolve} from 'node:path';
import type {KeyObject} from 'node:crypto';
import {conflict, denied, invalidInput} from '@bcl/core';
import {checkSecretTarget, writeSecretFileSync} from '@bcl/files';
import type {KeyType} from '@bcl/pki-local';
import type {PkictlSettings} from '../config.js';
import {exportPrivateKey, generateKey, keysMatch, loadPrivateKeyFile} from '../crypto/keys.js';
import {createCaCertificate, createCrl, x509} from '../crypto/x509.js';
import {defaultPolicyYaml, parsePolicy, type Policy} from '../store/policy.js';
import {type CaChain, inventoryWrites, loadCa, loadPolicy, signedWrites} from '../store/pki.js';
import {PATHS} from '../store/records.js';
import {isRemoteUrl} from '../store/git.js';
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
  rootDays: number;
  intermediateDays: number;
}

export interface CaInitResult {
  store: string;
  name: string;
  keyType: KeyType;
  root: {subject: string; serial: string; notAfter: string};
  intermediate: {subject: string; serial: string; notAfter: string} | null;
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
    return await initInStore(io, settings, params, caKeyFile, rootKeyFile, passphrase);
  } catch (error) {
    if (createdStore) rmSync(createdStore, {recursive: true, force: true});
    throw error;
  }
}

async function initInStore(io: PkiIo, settings: PkictlSettings, params: CaInitParams, caKeyFile: string, rootKeyFile: string | undefined, passphrase: string): Promise<CaInitResult> {
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
      const rootKey = await generateKey(params.keyType);
      const rootPem = await createCaCertificate({commonName: params.name, key: rootKey.privateKey, days: params.rootDays, pathLength: rootKeyFile ? 1 : 0, now});
      let intermediatePem: string | undefined;
      let issuerKey: KeyObject = rootKey.privateKey;
      let issuerPem = rootPem;
      const keyFiles: {file: string; key: KeyObject}[] = [];
      if (rootKeyFile) {
        const interKey = await generateKey(params.keyType);
        intermediatePem = await createCaCertificate({
          commonName: `${params.name} Intermediate`,
          key: interKey.privateKey,
          days: params.intermediateDays,
          pathLength: 0,
          issuer: {cert: new x509.X509Certificate(rootPem), key: rootKey.privateKey},
          now,
        });
        issuerKey = interKey.privateKey;
        issuerPem = intermediatePem;
        keyFiles.push({file: caKeyFile, key: interKey.privateKey}, {file: rootKeyFile, key: rootKey.privateKey});
      } else {
        keyFiles.push({file: caKeyFile, key: rootKey.privateKey});
      }
      const issuerCert = new x509.X509Certificate(issuerPem);
      const policyText = defaultPolicyYaml(params.emailDomains);
      const policy = await parsePolicy(policyText, PATHS.policy);
      const crl = await createCrl({
        caCert: issuerCert,
        caKey: issuerKey,
        number: 1,
        thisUpdate: now,
        nextUpdate: new Date(now.getTime() + policy.crlValidityDays * 86_400_000),
        entries: [],
      });
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
            ...signedWrites(PATHS.policy, PATHS.policySig, policyText, issuerKey),
            ...inventoryWrites({version: 1, crlNumber: 1, certificates: []}, issuerKey),
            {path: PATHS.crl, content: crl},
            {path: PATHS.readme, content: storeReadme(params.name)},
          ],
          result: undefined,
        }));
      } catch (error) {
        for (const t of temps) rmSync(t.tmp, {force: true});
        throw error;
      }
      for (const t of temps) renameSync(t.tmp, t.file);
      const root = new x509.X509Certificate(rootPem);
      const describe = (c: x509.X509Certificate) => ({subject: c.subject, serial: c.serialNumber.toUpperCase(), notAfter: c.notAfter.toISOString()});
      return {
        store: store.url,
        name: params.name,
        keyType: params.keyType,
        root: describe(root),
        intermediate: intermediatePem ? describe(issuerCert) : null,
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
- \`crl/crl.pem\`: the current certificate revocation list
`;
}

export interface AdminKey {
  key: KeyObject;
  /** Who acts: pkictl.email of the admin, or "CA admin". */
  actor: string;
}

/**
 * Loads the CA key for an admin operation: decrypts it, checks that it is the key of the store's
 * issuing CA, and that the admin is one of the policy's approvers.
 */
export async function loadAdminKey(io: PkiIo, settings: PkictlSettings, ca: CaChain, policy: Policy, flags: PassphraseFlags & {caKeyFile?: string | undefined}): Promise<AdminKey> {
  const file = flags.caKeyFile ?? settings.caKey;
  if (!file) {
    throw denied('pkictl.ca_key_required', 'this is a CA operation: give --ca-key (or set pkictl.caKey) with the CA key file', {hint: 'Only the CA admin holds the CA key.'});
  }
  const path = resolve(io.cwd, file);
  if (!existsSync(path)) throw invalidInput('pkictl.ca_key_missing', `--ca-key: ${path} does not exist`, {details: {flag: '--ca-key'}});
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
  if (!keysMatch(key, ca.issuerPublicKey)) {
    throw denied('pkictl.ca_key_mismatch', `${path} is not the key of this store's issuing CA (${ca.issuer.cert.subject})`, {hint: 'Give the CA key that `pkictl ca init` wrote for this store.'});
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
    newText = readFileSync(path, 'utf8');
    newPolicy = await parsePolicy(newText, path);
  }
  return withStore(io, settings, async (store) => {
    const ca = await loadCa(store);
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

