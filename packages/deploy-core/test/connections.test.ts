import {copyFileSync, readFileSync, writeFileSync} from 'node:fs';
import {createServer, type Server} from 'node:https';
import type {TLSSocket} from 'node:tls';
import {join} from 'node:path';
import {connect} from '@bcl/deploy-core/kube';
import {createOpensslPki, type OpensslPki, tempDir} from '@bcl/testkit';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

// An HTTPS server answering as the API server would for one namespace, counting TLS connections
// and noting which client certificate each request came with.
describe('connect: connections to the API server', () => {
  const dir = tempDir('bcl-kube-conn-');
  let pki: OpensslPki;
  let server: Server;
  let port = 0;
  let connections = 0;
  const clients: string[] = [];

  beforeAll(async () => {
    pki = await createOpensslPki('Cluster CA');
    const tls = await pki.issueServer({ip: ['127.0.0.1']});
    server = createServer({cert: readFileSync(tls.cert), key: readFileSync(tls.key), ca: readFileSync(pki.caCert), requestCert: true, rejectUnauthorized: true}, (req, res) => {
      clients.push((req.socket as TLSSocket).getPeerCertificate().serialNumber);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'default', resourceVersion: '1'}}));
    });
    server.on('secureConnection', () => (connections += 1));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as {port: number}).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    server.closeAllConnections();
    pki.remove();
    dir.remove();
  });

  it('reuses its connections between requests, and makes new ones when its client certificate changes', async () => {
    const [first, second] = [await pki.issueClient({email: 'svapp@example.com'}), await pki.issueClient({email: 'svapp@example.com'})];
    const cert = join(dir.path, 'client.crt');
    const key = join(dir.path, 'client.key');
    copyFileSync(first.cert, cert);
    copyFileSync(first.key, key);
    const kubeconfig = join(dir.path, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{name: 'c', cluster: {server: `https://127.0.0.1:${port}`, 'certificate-authority': pki.caCert}}],
        users: [{name: 'u', user: {'client-certificate': cert, 'client-key': key}}],
        contexts: [{name: 'ctx', context: {cluster: 'c', user: 'u'}}],
        'current-context': 'ctx',
      }),
    );
    const c = await connect({context: 'ctx', kubeconfig});
    // Sequential requests: a connection is back in the pool a moment after its answer was read, so two at most.
    for (let i = 0; i < 6; i++) expect((await c.core.readNamespace({name: 'default'})).metadata?.name).toBe('default');
    expect(connections).toBeLessThanOrEqual(2);
    const before = connections;

    // A certificate renewed on disk (the kubeconfig names files) is used from the next request on.
    copyFileSync(second.cert, cert);
    copyFileSync(second.key, key);
    for (let i = 0; i < 4; i++) await c.core.readNamespace({name: 'default'});
    expect(connections).toBeGreaterThan(before);
    expect(connections).toBeLessThanOrEqual(before + 2);
    expect(new Set(clients.slice(0, 6)).size).toBe(1);
    expect(new Set(clients.slice(6)).size).toBe(1);
    expect(clients[6]).not.toBe(clients[0]);
  });
});
