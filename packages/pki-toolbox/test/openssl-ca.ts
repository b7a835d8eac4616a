/**
 * An openssl-made CA for the tests of the files the browser code makes, and the VPN server's
 * certificate from any CA's files (the real openvpn server the profiles connect to).
 */
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {run, tempDir} from '@bcl/testkit';

export interface TestCa {
  dir: string;
  certFile: string;
  certPem: string;
  keyPem: string;
}

/** A CA made by openssl (P-256, 10 years). */
export async function makeTestCa(): Promise<TestCa & {remove(): void}> {
  const dir = tempDir('bcl-toolbox-ca-');
  const d = dir.path;
  const f = (name: string) => join(d, name);
  writeFileSync(f('ca.cnf'), '[req]\ndistinguished_name=dn\n[dn]\n[ca]\nbasicConstraints=critical,CA:true,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n');
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-noenc', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-subj', '/O=Example/CN=Example Test CA', '-days', '3650', '-config', f('ca.cnf'), '-extensions', 'ca']);
  return {dir: d, certFile: f('ca.pem'), certPem: readFileSync(f('ca.pem'), 'utf8'), keyPem: readFileSync(f('ca.key'), 'utf8'), remove: dir.remove};
}

/** The VPN server's certificate (localhost, 127.0.0.1, serverAuth) signed by a CA's files with openssl. */
export async function vpnServerCertificate(dir: string, caCert: string, caKey: string): Promise<{cert: string; key: string}> {
  const f = (name: string) => join(dir, name);
  writeFileSync(f('server.ext'), 'basicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n');
  await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-noenc', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost']);
  await run('openssl', ['x509', '-req', '-in', f('server.csr'), '-CA', caCert, '-CAkey', caKey, '-CAserial', f('server.srl'), '-CAcreateserial', '-days', '30', '-extfile', f('server.ext'), '-out', f('server.pem')]);
  return {cert: f('server.pem'), key: f('server.key')};
}
