/**
 * `pkictl kubeconfig --cluster <name>`: a kubeconfig user and context that authenticate with a
 * PKI client certificate (the cluster's API server trusts the PKI CA as its client CA and takes
 * the certificate's CN, the email, as the user name). The entry points at the certificate and
 * key files in pkictl's credential directory: no key is copied. Other entries and comments of
 * the kubeconfig are kept; the file is written atomically, 0600.
 */
import {existsSync, mkdirSync, readFileSync} from 'node:fs';
import {homedir} from 'node:os';
import {delimiter, dirname, join, resolve} from 'node:path';
import {conflict, invalidInput} from '@bcl/core';
import {writeFileAtomicSync} from '@bcl/files';
import {findCredential, listCredentials, type LocalCredential} from '@bcl/pki-local';
import type {PkictlSettings} from '../config.js';
import type {PkiIo} from './io.js';

export interface KubeconfigParams {
  cluster: string;
  kubeconfig?: string | undefined;
  serial?: string | undefined;
  /** For a cluster not in the file yet: its API server and CA. */
  server?: string | undefined;
  certificateAuthority?: string | undefined;
  context?: string | undefined;
  use: boolean;
}

export interface KubeconfigResult {
  kubeconfig: string;
  cluster: string;
  user: string;
  context: string;
  serial: string;
  email: string;
  notAfter: string;
  currentContext: string | null;
  clusterAdded: boolean;
}

interface NamedEntry {
  name: string;
  [key: string]: unknown;
}

function kubeconfigPath(io: PkiIo, given: string | undefined): string {
  if (given) return resolve(io.cwd, given);
  const fromEnv = io.env.KUBECONFIG?.split(delimiter).find(Boolean);
  if (fromEnv) return resolve(io.cwd, fromEnv);
  return join(io.env.HOME ?? homedir(), '.kube', 'config');
}

function credentialFor(io: PkiIo, settings: PkictlSettings, serial: string | undefined): LocalCredential {
  const now = io.now();
  if (serial) {
    const c = listCredentials({env: io.env, now}).find((x) => x.serial === serial && x.certPath);
    if (!c) throw invalidInput('pkictl.no_local_key', `certificate ${serial} and its key are not on this machine`, {details: {serial}});
    if (c.state !== 'valid') throw conflict('pkictl.certificate_unusable', `certificate ${serial} is ${c.state}`, {hint: `Renew it with \`pkictl renew ${serial}\`.`});
    return c;
  }
  const c = findCredential({env: io.env, now, profile: 'client', ...(settings.email ? {email: settings.email} : {})});
  if (!c) throw invalidInput('pkictl.no_certificate', `no valid client certificate on this machine${settings.email ? ` for ${settings.email}` : ''}`, {hint: 'Request one with `pkictl request` (profile client), or pass --serial.'});
  return c;
}

export async function kubeconfig(io: PkiIo, settings: PkictlSettings, params: KubeconfigParams): Promise<KubeconfigResult> {
  const credential = credentialFor(io, settings, params.serial);
  if (credential.encrypted) {
    throw conflict('pkictl.key_encrypted', `the key of ${credential.serial} is encrypted (${credential.keyPath}); kubectl reads only unencrypted keys`, {hint: 'Request a certificate without --encrypt-key for Kubernetes.'});
  }
  const file = kubeconfigPath(io, params.kubeconfig);
  const {parseDocument, isMap} = await import('yaml');
  let text = '';
  if (existsSync(file)) text = readFileSync(file, 'utf8');
  const {parseYaml} = await import('@bcl/spec-loader');
  if (text.trim()) {
    try {
      parseYaml(text, file);
    } catch (error) {
      throw invalidInput('pkictl.kubeconfig_invalid', (error as Error).message, {details: {file}});
    }
  }
  const doc = parseDocument(text.trim() ? text : 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\npreferences: {}\n');
  if (!isMap(doc.contents)) throw invalidInput('pkictl.kubeconfig_invalid', `${file} is not a kubeconfig (a mapping with clusters, users and contexts)`, {details: {file}});
  const list = (key: string): NamedEntry[] => {
    const value = doc.get(key);
    const items = value === undefined || value === null ? [] : ((doc.toJS() as Record<string, unknown>)[key] as unknown);
    if (!Array.isArray(items)) throw invalidInput('pkictl.kubeconfig_invalid', `${file}: ${key} is not a list`, {details: {file, key}});
    return items as NamedEntry[];
  };
  const clusters = list('clusters');
  let clusterAdded = false;
  if (!clusters.some((c) => c.name === params.cluster)) {
    if (!params.server) {
      throw invalidInput('pkictl.cluster_unknown', `${file} has no cluster "${params.cluster}" (clusters: ${clusters.map((c) => c.name).join(', ') || 'none'})`, {
        hint: 'Give its API server with --server (and its CA with --certificate-authority), or use a kubeconfig that has it.',
        details: {flag: '--cluster'},
      });
    }
    const cluster: Record<string, unknown> = {server: params.server};
    if (params.certificateAuthority) {
      const ca = resolve(io.cwd, params.certificateAuthority);
      if (!existsSync(ca)) throw invalidInput('pkictl.file_missing', `--certificate-authority: ${ca} does not exist`, {details: {flag: '--certificate-authority'}});
      cluster['certificate-authority'] = ca;
    }
    upsert(doc, 'clusters', {name: params.cluster, cluster});
    clusterAdded = true;
  }
  const user = `${credential.email}@${params.cluster}`;
  const context = params.context ?? user;
  upsert(doc, 'users', {name: user, user: {'client-certificate': credential.certPath!, 'client-key': credential.keyPath}});
  upsert(doc, 'contexts', {name: context, context: {cluster: params.cluster, user}});
  if (params.use) doc.set('current-context', context);
  mkdirSync(dirname(file), {recursive: true, mode: 0o700});
  writeFileAtomicSync(file, doc.toString(), {mode: 0o600});
  const current = doc.get('current-context');
  return {
    kubeconfig: file,
    cluster: params.cluster,
    user,
    context,
    serial: credential.serial!,
    email: credential.email,
    notAfter: credential.notAfter!.toISOString(),
    currentContext: typeof current === 'string' ? current : null,
    clusterAdded,
  };
}

/** Replaces the entry of that name in a kubeconfig list (or appends it), leaving the others as they are. */
function upsert(doc: import('yaml').Document, key: string, entry: NamedEntry): void {
  const existing = doc.get(key) as import('yaml').YAMLSeq | undefined;
  const node = doc.createNode(entry);
  if (!existing || !('items' in existing)) {
    doc.set(key, doc.createNode([entry]));
    return;
  }
  const index = existing.items.findIndex((item) => (item as import('yaml').YAMLMap).get?.('name') === entry.name);
  if (index === -1) existing.items.push(node);
  else existing.items[index] = node;
}
