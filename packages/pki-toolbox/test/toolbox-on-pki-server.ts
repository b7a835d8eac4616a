/**
 * The Toolbox as people get it: the real PKI server (bin/pki-server on a real PostgreSQL) serving
 * it, the real OIDC provider (Google-like claims) with the Toolbox's web client, two VPN servers
 * configured, and a real openvpn server's certificate from the same CA. `signIn` goes through the
 * provider's own account page in the browser, as a person clicks it.
 */
import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import type {Page} from 'playwright-core';
import {freePort, type OidcProvider, type PkiServer, type PostgresServer, startOidcProvider, startPkiServer, startPostgres, tempDir} from '@bcl/testkit';
import {vpnServerCertificate} from './openssl-ca.js';

export interface ToolboxOnPkiServer {
  url: string;
  server: PkiServer;
  oidc: OidcProvider;
  /** The openvpn server's certificate and key (localhost, 127.0.0.1) from the PKI's CA. */
  vpn: {cert: string; key: string};
  dir: string;
  /** Signs in on the Toolbox at `path` with the account the provider lists as matching `account`. */
  signIn(page: Page, account: RegExp, path?: string): Promise<void>;
  /** The server's current CRL, written to a file (as relying parties fetch it). */
  crl(name: string): Promise<string>;
  /** How many certificate rows match an SQL condition. */
  count(where: string): Promise<number>;
  stop(): Promise<void>;
}

export const PEOPLE = [
  {sub: '100000000000000000001', email: 'ann@example.com', hd: 'example.com', name: 'Ann Example'},
  {sub: '100000000000000000002', email: 'bob@example.com', hd: 'example.com', name: 'Bob Example'},
  {sub: '100000000000000000005', email: 'alice@example.com', hd: 'example.com', name: 'Alice Example'},
  {sub: '100000000000000000003', email: 'mallory@gmail.com', name: 'Mallory (consumer account)'},
  {sub: '100000000000000000004', email: 'carl@example.com', hd: 'example.com', emailVerified: false, name: 'Carl (unverified)'},
];

export async function startToolboxOnPkiServer(): Promise<ToolboxOnPkiServer> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const dir = tempDir('bcl-toolbox-');
  let pg: PostgresServer | undefined;
  let oidc: OidcProvider | undefined;
  let server: PkiServer | undefined;
  const stop = async () => {
    await server?.stop();
    await oidc?.stop();
    await pg?.stop();
    dir.remove();
  };
  try {
    pg = await startPostgres();
    oidc = await startOidcProvider({
      users: PEOPLE,
      clients: [{clientId: 'bcl-cli'}, {clientId: 'pki-toolbox', clientSecret: 'toolbox secret', applicationType: 'web', redirectUris: [`${base}/v1/auth/callback`]}],
    });
    server = await startPkiServer({
      postgres: pg,
      oidc,
      ports: [port],
      web: {clientId: 'pki-toolbox', clientSecret: 'toolbox secret'},
      extraConfig: [
        'admins: {emails: [ann@example.com]}',
        'vpnServers:',
        '  - {name: Berlin office, location: "Berlin, Germany", remote: "127.0.0.1:1194", proto: tcp}',
        '  - {name: New York office, location: "New York, USA", remote: "vpn-nyc.example.com:443", proto: tcp}',
      ].join('\n'),
    });
    const vpn = await vpnServerCertificate(dir.path, server.caCert, server.caKey);
    const s = server;
    return {
      url: s.url,
      server: s,
      oidc,
      vpn,
      dir: dir.path,
      async signIn(page, account, path = '/') {
        await page.context().clearCookies();
        await page.goto(`${s.url}${path}`);
        await page.getByRole('link', {name: 'Sign in with your company account'}).click();
        await page.getByRole('button', {name: account}).click();
      },
      async crl(name) {
        const file = join(dir.path, name);
        writeFileSync(file, await (await fetch(`${s.url}/crl.pem`)).text());
        return file;
      },
      async count(where) {
        const out = await s.sql(`select count(*) from certificates where ${where}`);
        return Number(out.split('\n').find((l) => /^\s*\d+\s*$/.test(l)));
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
