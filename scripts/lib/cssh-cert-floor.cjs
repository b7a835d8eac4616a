// The least a certificate costs in Node, for scripts/bench-cssh: what `csshctl cert` does with no
// framework (a new Ed25519 key, one POST over mutual TLS, three 0600 files), so the bench shows how
// much of csshctl's time is Node itself. Usage: node cssh-cert-floor.cjs URL CA CERT KEY DIR PRINCIPAL
'use strict';
const {generateKeyPairSync} = require('node:crypto');
const https = require('node:https');
const fs = require('node:fs');

const [url, ca, cert, key, dir, principal] = process.argv.slice(2);
const {publicKey, privateKey} = generateKeyPairSync('ed25519');
const raw = Buffer.from(publicKey.export({format: 'jwk'}).x, 'base64url');
const u32 = (n) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
const type = Buffer.from('ssh-ed25519');
const line = `ssh-ed25519 ${Buffer.concat([u32(type.length), type, u32(raw.length), raw]).toString('base64')}`;
const body = JSON.stringify({publicKey: line, principals: [principal], ttl: '1h'});
const req = https.request(`${url}/v1/certificates`, {method: 'POST', ca: fs.readFileSync(ca), cert: fs.readFileSync(cert), key: fs.readFileSync(key), headers: {'content-type': 'application/json', 'content-length': Buffer.byteLength(body)}}, (res) => {
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (d) => (text += d));
  res.on('end', () => {
    if (res.statusCode !== 201) {
      process.stderr.write(`${res.statusCode} ${text}\n`);
      process.exit(1);
    }
    const issued = JSON.parse(text);
    for (const [name, content] of [['id', privateKey.export({type: 'pkcs8', format: 'pem'})], ['id.pub', `${line}\n`], ['id-cert.pub', `${issued.certificate}\n`]]) {
      const fd = fs.openSync(`${dir}/${name}`, 'w', 0o600);
      fs.writeSync(fd, content);
      fs.fsyncSync(fd);
      fs.closeSync(fd);
    }
  });
});
req.on('error', (e) => {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
});
req.end(body);
