/** Shared set-up of the PKI server's tests: real PostgreSQL, a real OIDC provider, real server processes. */
import {spawnSync} from 'node:child_process';
import {generateKeyPairSync, type KeyObject} from 'node:crypto';
import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import type {OidcProvider, PkiServer} from '@bcl/testkit';

export interface ApiResult<T = any> {
  status: number;
  json: T;
  text: string;
  headers: Headers;
}

/** One HTTP call to a replica, with a bearer token or none. */
export async function api<T = any>(base: string, path: string, o: {token?: string; json?: unknown; method?: string; headers?: Record<string, string>} = {}): Promise<ApiResult<T>> {
  const res = await fetch(`${base}${path}`, {
    method: o.method ?? (o.json === undefined ? 'GET' : 'POST'),
    headers: {...(o.json !== undefined ? {'content-type': 'application/json'} : {}), ...(o.token ? {authorization: `Bearer ${o.token}`} : {}), ...o.headers},
    ...(o.json !== undefined ? {body: JSON.stringify(o.json)} : {}),
    redirect: 'manual',
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return {status: res.status, json: json as T, text, headers: res.headers};
}

/** A session token for a test user: a fresh ID token from the provider's own key, exchanged once. */
export async function login(oidc: OidcProvider, server: {url: string}, user: string): Promise<string> {
  const idToken = await oidc.mintIdToken({user});
  const res = await api(server.url, '/v1/sessions', {json: {idToken}});
  if (res.status !== 201) throw new Error(`login as ${user}: ${res.status} ${res.text}`);
  return res.json.token as string;
}

/** Runs openssl; `out` is its stdout and stderr together (verify results go to stderr). */
export function openssl(args: string[], options: {input?: string | Buffer; allowFailure?: boolean} = {}): {code: number; out: string} {
  const r = spawnSync('openssl', args, {encoding: 'utf8', ...(options.input !== undefined ? {input: options.input} : {})});
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0 && !options.allowFailure) throw new Error(`openssl ${args.join(' ')} failed: ${out}`);
  return {code: r.status ?? 1, out};
}

/** A key and a plain CSR made with Node's crypto and @bcl/pki-ca (as pkictl and the Toolbox make them). */
export async function newCsr(email: string, type: 'ec' | 'rsa' = 'ec'): Promise<{csr: string; privateKey: KeyObject; publicKey: KeyObject}> {
  const {createCsr} = await import('@bcl/pki-ca');
  const keys = type === 'ec' ? generateKeyPairSync('ec', {namedCurve: 'P-256'}) : generateKeyPairSync('rsa', {modulusLength: 3072});
  return {csr: await createCsr({privateKey: keys.privateKey, publicKey: keys.publicKey, commonName: email, sans: [{type: 'email', value: email}]}), ...keys};
}

/** Certificates the CA signed for people (the OCSP responders' own are in the inventory too). */
export async function issuedCount(server: PkiServer): Promise<number> {
  return Number(await server.sql("select count(*) from certificates where status <> 'reserved' and profile is distinct from 'ocsp-responder'"));
}

export async function auditCount(server: PkiServer, event: string, code?: string): Promise<number> {
  return Number(await server.sql(`select count(*) from audit_log where event = '${event}'${code ? ` and line::jsonb->>'code' = '${code}'` : ''}`));
}

export function writeTemp(dir: string, name: string, text: string | Buffer): string {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
}
