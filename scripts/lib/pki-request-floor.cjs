// The least `pkictl request` against the PKI server costs in Node, for scripts/bench-pki: the same
// work with no CLI framework (the server's CA chain fetched and its root checked against the pin,
// a new P-256 key, the CSR from the builder pkictl uses, one POST, the certificate checked and six
// files written durably in a staging directory renamed into place), so the bench shows how much
// of pkictl's time is Node and the work, and how much the CLI's start.
// Usage: PKI_FLOOR_TOKEN=<session token> node pki-request-floor.cjs URL PIN DIR EMAIL
'use strict';
const {createHash, generateKeyPair, X509Certificate} = require('node:crypto');
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const {createCsr} = require('../../packages/pki-ca/dist/make-csr.js');

const [url, pin, dir, email] = process.argv.slice(2);
const token = process.env.PKI_FLOOR_TOKEN;
const agent = new http.Agent({keepAlive: true});
const headers = {'bcl-client': 'pkictl-floor/0.0.0', 'bcl-protocol': '1', authorization: `Bearer ${token}`};

function call(method, route, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${route}`, {method, agent, headers: body ? {...headers, 'content-type': 'application/json'} : headers}, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => (res.statusCode < 300 ? resolve(text) : reject(new Error(`${method} ${route}: ${res.statusCode} ${text}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function writeNew(file, data, mode) {
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, mode);
  fs.writeSync(fd, data);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
}

function fsyncDir(d) {
  const fd = fs.openSync(d, 'r');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
}

async function main() {
  const chain = call('GET', '/ca.pem').then((pem) => {
    const certs = pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g).map((p) => new X509Certificate(p));
    for (let i = 0; i + 1 < certs.length; i++) if (!certs[i].verify(certs[i + 1].publicKey)) throw new Error('broken chain');
    const root = certs.at(-1);
    if (createHash('sha256').update(root.raw).digest('hex') !== pin.replace(/:/g, '').toLowerCase()) throw new Error('the root does not match the pin');
    return {pem, issuer: certs[0]};
  });
  const keys = await new Promise((resolve, reject) => generateKeyPair('ec', {namedCurve: 'P-256'}, (e, publicKey, privateKey) => (e ? reject(e) : resolve({publicKey, privateKey}))));
  const csr = await createCsr({...keys, commonName: email, sans: [{type: 'email', value: email}]});
  const ca = await chain;
  const staging = path.join(dir, `.partial-${process.pid}`);
  fs.mkdirSync(staging, {recursive: true, mode: 0o700});
  writeNew(path.join(staging, 'key.pem'), keys.privateKey.export({type: 'pkcs8', format: 'pem'}), 0o600);
  writeNew(path.join(staging, 'public.pem'), keys.publicKey.export({type: 'spki', format: 'pem'}), 0o644);
  writeNew(path.join(staging, 'csr.pem'), csr, 0o644);
  const answer = JSON.parse(await call('POST', '/v1/requests', JSON.stringify({csr, profile: 'client'})));
  const cert = new X509Certificate(answer.certificate.pem);
  if (!cert.verify(ca.issuer.publicKey) || !cert.publicKey.export({type: 'spki', format: 'der'}).equals(keys.publicKey.export({type: 'spki', format: 'der'}))) throw new Error('not our certificate');
  writeNew(path.join(staging, 'cert.pem'), answer.certificate.pem, 0o644);
  writeNew(path.join(staging, 'chain.pem'), ca.pem, 0o644);
  writeNew(path.join(staging, 'credential.json'), `${JSON.stringify({id: answer.request.id, serial: answer.certificate.serial}, null, 2)}\n`, 0o644);
  fsyncDir(staging);
  fs.renameSync(staging, path.join(dir, answer.request.id));
  fsyncDir(dir);
  agent.destroy();
}

main().catch((error) => {
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
});
