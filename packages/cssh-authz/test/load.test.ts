// Bounded load: 1,000 issuance requests from 50 concurrent mTLS clients on loopback. Correctness
// under concurrency only (every certificate valid, serials unique, one audit line each); the
// throughput figure comes from scripts/bench-cssh, not from a timed test.
import {execFileSync} from 'node:child_process';
import {generateKeyPairSync} from 'node:crypto';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {Agent, request} from 'node:https';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {formatPublicKey, parseCertificate, parsePublicKey, sshPublicKey, verifyCertificateSignature} from '@bcl/openssh-formats';
import {createOpensslPki, type CsshAuthz, type OpensslPki, startCsshAuthz} from '@bcl/testkit';
import {afterAll, beforeAll, expect, it} from 'vitest';

const REQUESTS = 1000;
const CLIENTS = 50;

let pki: OpensslPki;
let authz: CsshAuthz;
const work = mkdtempSync(join(tmpdir(), 'cssh-load-'));

beforeAll(async () => {
  pki = await createOpensslPki();
  authz = await startCsshAuthz({
    pki,
    rules: 'groups:\n  sre: [ann@example.com]\nhostGroups:\n  all: ["*"]\ngrants:\n  - {group: sre, hosts: all, principals: [ops, deploy]}\n',
  });
});

afterAll(async () => {
  await authz?.stop();
  pki?.remove();
  rmSync(work, {recursive: true, force: true});
});

it(`issues ${REQUESTS} valid certificates with unique serials to ${CLIENTS} concurrent clients, auditing each`, async () => {
  const ann = await pki.issueClient({email: 'ann@example.com'});
  const tls = {ca: readFileSync(pki.caCert), cert: readFileSync(ann.cert), key: readFileSync(ann.key)};
  const keys = Array.from({length: REQUESTS}, () => {
    const {type, blob} = sshPublicKey(generateKeyPairSync('ed25519').publicKey);
    return formatPublicKey(type, blob);
  });
  let next = 0;
  const results: {status: number; body: string; key: string}[] = [];
  const client = async () => {
    // One kept-alive TLS connection per client, as a busy laptop fleet would open.
    const agent = new Agent({...tls, keepAlive: true, maxSockets: 1});
    try {
      for (let i = next++; i < REQUESTS; i = next++) {
        const key = keys[i]!;
        const body = JSON.stringify({publicKey: key, ttl: '1h'});
        results.push(
          await new Promise((resolve, reject) => {
            const req = request(`${authz.url}/v1/certificates`, {method: 'POST', agent, headers: {'content-type': 'application/json'}}, (res) => {
              let text = '';
              res.on('data', (d) => (text += d));
              res.on('end', () => resolve({status: res.statusCode ?? 0, body: text, key}));
            });
            req.on('error', reject);
            req.end(body);
          }),
        );
      }
    } finally {
      agent.destroy();
    }
  };
  await Promise.all(Array.from({length: CLIENTS}, client));

  expect(results).toHaveLength(REQUESTS);
  expect(results.filter((r) => r.status !== 201).map((r) => `${r.status} ${r.body}`)).toEqual([]);
  const caBlob = parsePublicKey(authz.caPublicKey).blob;
  const serials = new Set<string>();
  for (const r of results) {
    const answer = JSON.parse(r.body) as {certificate: string; serial: string};
    const cert = parseCertificate(answer.certificate);
    expect(verifyCertificateSignature(cert)).toBe(true);
    expect(cert.signatureKey.equals(caBlob)).toBe(true);
    expect(cert.publicKey.equals(parsePublicKey(r.key).blob)).toBe(true);
    expect(cert.serial.toString()).toBe(answer.serial);
    serials.add(answer.serial);
  }
  expect(serials.size).toBe(REQUESTS);
  // OpenSSH agrees on a sample.
  for (const r of results.slice(0, 10)) {
    const file = join(work, `${Math.random().toString(36).slice(2)}-cert.pub`);
    writeFileSync(file, `${JSON.parse(r.body).certificate}\n`);
    expect(execFileSync('ssh-keygen', ['-L', '-f', file], {encoding: 'utf8'})).toMatch(/Key ID: "ann@example.com\/\d+"/);
  }
  const issued = authz.audit().filter((a) => a.event === 'certificate.issued');
  expect(issued).toHaveLength(REQUESTS);
  expect(new Set(issued.map((a) => a.serial))).toEqual(serials);
}, 300_000);
