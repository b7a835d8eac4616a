// The local cluster's real kube-apiserver with the PKI server's CA as a client CA: the kubeconfig
// entry `pkictl kubeconfig` writes signs kubectl in as the certificate's email, and a revoked
// certificate cannot be renewed into a new one.
import {copyFileSync, mkdirSync, readFileSync, statSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, beforeAll, expect, it} from 'vitest';
import {kubectl, LOCAL_CONTEXT, type OidcProvider, type PkiServer, type PostgresServer, startOidcProvider, startPkiServer, startPostgres, testKubeconfig, trustClientCa, waitFor} from '@bcl/testkit';
import {ok, type ServerUser, serverUser} from '../server-support.js';

let pg: PostgresServer;
let oidc: OidcProvider;
let server: PkiServer;
let ann: ServerUser;
let trust: {remove(): void};
let adminKubeconfig: string;

beforeAll(async () => {
  adminKubeconfig = testKubeconfig();
  pg = await startPostgres();
  oidc = await startOidcProvider({users: [{sub: '100000000000000000001', email: 'ann@example.com', hd: 'example.com', name: 'Ann'}]});
  server = await startPkiServer({postgres: pg, oidc});
  trust = trustClientCa(adminKubeconfig, readFileSync(server.caCert, 'utf8'));
  ann = serverUser(server, oidc, 'ann@example.com');
  expect((await ann.loginDevice()).exitCode).toBe(0);
}, 300_000);

afterAll(async () => {
  trust?.remove();
  ann?.home.remove();
  await server?.stop();
  await oidc?.stop();
  await pg?.stop();
});

it('kubectl with the kubeconfig entry pkictl wrote is authenticated as the email; a revoked certificate does not renew', async () => {
  const cert = await ok(ann.pk(['request']));
  expect(cert.status).toBe('issued');
  // Ann's kubeconfig already knows the cluster (server and CA), as a cluster admin hands it out.
  const kubeconfig = join(ann.home.home, '.kube', 'config');
  mkdirSync(join(ann.home.home, '.kube'), {recursive: true});
  copyFileSync(adminKubeconfig, kubeconfig);
  const entry = await ok(ann.pk(['kubeconfig', '--cluster', LOCAL_CONTEXT]));
  expect(entry).toMatchObject({kubeconfig, context: `ann@example.com@${LOCAL_CONTEXT}`, user: `ann@example.com@${LOCAL_CONTEXT}`, serial: cert.serial, clusterAdded: false});
  expect(statSync(kubeconfig).mode & 0o777).toBe(0o600);
  const text = readFileSync(kubeconfig, 'utf8');
  expect(text).toContain(`client-certificate: ${cert.certPath}`);
  expect(text).not.toContain('BEGIN PRIVATE KEY');

  // kube-apiserver reloads its client CA bundle; then it knows Ann by her certificate.
  const whoami = await waitFor(
    'kube-apiserver to accept the PKI CA',
    async () => {
      const r = await kubectl(kubeconfig, ['--context', entry.context, 'auth', 'whoami', '-o', 'json'], {allowFailure: true});
      return r.code === 0 ? r : undefined;
    },
    {timeoutMs: 90_000, intervalMs: 2000},
  );
  expect(JSON.parse(whoami.stdout).status.userInfo.username).toBe('ann@example.com');
  const denied = await kubectl(kubeconfig, ['--context', entry.context, 'get', 'secrets', '-n', 'default'], {allowFailure: true});
  expect(denied.code).not.toBe(0);
  expect(denied.stderr).toContain('User "ann@example.com" cannot list resource "secrets"');

  await ok(ann.pk(['revoke', cert.serial, '--reason', 'keyCompromise']));
  const renewed = await ann.pk(['renew', cert.serial]);
  expect(renewed.exitCode).toBe(6);
  expect(renewed.json().error?.message).toContain('never renewed');
});
