import {renameSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {run} from './run.js';
import {tempDir} from './temp.js';

/**
 * A small X.509 PKI made with the real `openssl ca` (its index, serials and CRLs), for tests of
 * services that authenticate clients by certificate: a root CA, leaf certificates for clients
 * (email SAN, clientAuth) and servers (DNS/IP SANs, serverAuth), revocation and a signed CRL.
 */
export interface OpensslPki {
  dir: string;
  /** The CA certificate (PEM file). */
  caCert: string;
  /** The current CRL (PEM file); `revoke()` and `writeCrl()` replace it atomically. */
  crl: string;
  /** A client certificate; `san` replaces the email SAN (e.g. "URI:urn:bcl:ci:jenkins" or "DNS:web1.example.com"). */
  issueClient(options: {email: string; name?: string; days?: number; eku?: string; san?: string}): Promise<IssuedX509>;
  issueServer(options: {dns?: string[]; ip?: string[]; days?: number}): Promise<IssuedX509>;
  /** A host's certificate: its DNS name (and addresses) for mutual TLS as a client (clientAuth), e.g. cssh-daemon's. */
  issueHost(options: {dns?: string[]; ip?: string[]; days?: number}): Promise<IssuedX509>;
  /** Revokes a certificate and publishes a new CRL. */
  revoke(cert: IssuedX509): Promise<void>;
  /** Publishes a CRL valid for `hours` (negative: already expired, for tests of stale CRLs). */
  writeCrl(hours?: number): Promise<void>;
  remove(): void;
}

export interface IssuedX509 {
  cert: string;
  key: string;
  /** Upper-case hex, as `openssl x509 -serial` prints it. */
  serial: string;
}

export async function createOpensslPki(name = 'Test PKI'): Promise<OpensslPki> {
  const dir = tempDir('bcl-pki-');
  const d = dir.path;
  const caKey = join(d, 'ca.key');
  const caCert = join(d, 'ca.pem');
  const crl = join(d, 'crl.pem');
  writeFileSync(join(d, 'index.txt'), '');
  writeFileSync(join(d, 'crlnumber'), '01\n');
  const cnf = join(d, 'openssl.cnf');
  writeFileSync(
    cnf,
    `[ca]
default_ca = pki
[pki]
dir = ${d}
database = $dir/index.txt
new_certs_dir = $dir
certificate = $dir/ca.pem
private_key = $dir/ca.key
crlnumber = $dir/crlnumber
rand_serial = yes
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
default_crl_hours = 24
[anything]
commonName = supplied
emailAddress = optional
[ca_ext]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[req]
distinguished_name = dn
[dn]
`,
  );
  const openssl = (args: string[]) => run('openssl', args, {cwd: d});
  await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-noenc', '-keyout', caKey, '-out', caCert, '-subj', `/CN=${name}`, '-days', '3', '-config', cnf, '-extensions', 'ca_ext']);
  let counter = 0;
  // openssl ca rewrites index.txt by rename: one operation at a time.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(f: () => Promise<T>): Promise<T> => {
    const next = queue.then(f);
    queue = next.catch(() => undefined);
    return next;
  };

  async function issue(cn: string, ext: string, days: number): Promise<IssuedX509> {
    const base = join(d, `leaf-${++counter}`);
    const extFile = `${base}.ext`;
    writeFileSync(extFile, `[leaf]\nbasicConstraints = critical, CA:false\nkeyUsage = critical, digitalSignature\n${ext}\n`);
    await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-noenc', '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${cn}`, '-config', cnf]);
    await openssl(['ca', '-batch', '-config', cnf, '-in', `${base}.csr`, '-out', `${base}.pem`, '-days', String(days), '-extfile', extFile, '-extensions', 'leaf', '-notext']);
    const serial = (await openssl(['x509', '-in', `${base}.pem`, '-noout', '-serial'])).stdout.trim().replace(/^serial=/, '');
    return {cert: `${base}.pem`, key: `${base}.key`, serial};
  }

  async function writeCrl(hours = 24): Promise<void> {
    const tmp = `${crl}.tmp`;
    const stamp = (offsetHours: number) => new Date(Date.now() + offsetHours * 3600_000).toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');
    const window = hours > 0 ? ['-crlhours', String(hours)] : ['-crl_lastupdate', stamp(hours - 1), '-crl_nextupdate', stamp(hours)];
    await openssl(['ca', '-gencrl', '-config', cnf, ...window, '-out', tmp]);
    renameSync(tmp, crl);
  }

  await writeCrl();
  return {
    dir: d,
    caCert,
    crl,
    issueClient: ({email, name: cn, days = 2, eku = 'clientAuth', san}) => serial(() => issue(cn ?? email, `extendedKeyUsage = ${eku}\nsubjectAltName = ${san ?? `email:${email}`}`, days)),
    issueServer: ({dns = ['localhost'], ip = ['127.0.0.1'], days = 2}) =>
      serial(() => issue(dns[0] ?? ip[0] ?? 'server', `extendedKeyUsage = serverAuth\nsubjectAltName = ${[...dns.map((n) => `DNS:${n}`), ...ip.map((a) => `IP:${a}`)].join(', ')}`, days)),
    issueHost: ({dns = [], ip = [], days = 2}) =>
      serial(() => issue(dns[0] ?? ip[0] ?? 'host', `extendedKeyUsage = clientAuth\nsubjectAltName = ${[...dns.map((n) => `DNS:${n}`), ...ip.map((a) => `IP:${a}`)].join(', ')}`, days)),
    revoke: (cert) =>
      serial(async () => {
        await openssl(['ca', '-config', cnf, '-revoke', cert.cert, '-crl_reason', 'keyCompromise']);
        await writeCrl();
      }),
    writeCrl: (hours) => serial(() => writeCrl(hours)),
    remove: dir.remove,
  };
}
