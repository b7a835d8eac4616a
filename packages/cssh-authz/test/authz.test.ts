// cssh-authz as its users meet it: the real service (bin/cssh-authz), a real openssl PKI for
// mutual TLS, ssh-keygen to read what it signs.
import {execFileSync, spawnSync} from 'node:child_process';
import {existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {connect as tlsConnect} from 'node:tls';
import {createOpensslPki, type CsshAuthz, type IssuedX509, type OpensslPki, repoRoot, run, startCsshAuthz, waitFor} from '@bcl/testkit';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

const RULES = `
groups:
  sre: [ann@example.com]
  dev: [carl@example.com]
hostGroups:
  all: ["*"]
  web: ["web-*.example.com"]
  db: [db1.example.com]
grants:
  - group: sre
    hosts: all
    principals: [root, ops]
  - group: dev
    hosts: web
    principals: [deploy]
    maxTtl: 10m
  - group: dev
    hosts: db
    principals: [dbadmin]
    forceCommand: /usr/bin/psql
    sourceAddresses: [127.0.0.1/32, 10.0.0.0/8]
    extensions: [permit-pty]
admins: [sre]
`;

let pki: OpensslPki;
let other: OpensslPki;
let authz: CsshAuthz;
let ann: IssuedX509;
let carl: IssuedX509;
let eve: IssuedX509;
const work = mkdtempSync(join(tmpdir(), 'cssh-authz-test-'));

function userKey(type = 'ed25519', bits?: number): {path: string; pub: string} {
  const path = join(work, `key-${Math.random().toString(36).slice(2)}`);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(bits ? ['-b', String(bits)] : []), '-N', '', '-C', 'test', '-f', path]);
  return {path, pub: readFileSync(`${path}.pub`, 'utf8').trim()};
}

function show(certificate: string): string {
  const file = join(work, `cert-${Math.random().toString(36).slice(2)}-cert.pub`);
  writeFileSync(file, `${certificate}\n`);
  return execFileSync('ssh-keygen', ['-L', '-f', file], {encoding: 'utf8'});
}

const issue = (client: IssuedX509 | undefined, json: unknown) => authz.request('/v1/certificates', {json, client});

beforeAll(async () => {
  pki = await createOpensslPki('Company PKI');
  other = await createOpensslPki('Someone Else');
  [ann, carl, eve] = await Promise.all([pki.issueClient({email: 'ann@example.com'}), pki.issueClient({email: 'carl@example.com'}), pki.issueClient({email: 'eve@example.com'})]);
  authz = await startCsshAuthz({pki, rules: RULES});
});

afterAll(async () => {
  await authz?.stop();
  pki?.remove();
  other?.remove();
  rmSync(work, {recursive: true, force: true});
});

describe('issuing certificates', () => {
  it('signs a certificate that ssh-keygen -L shows with key id, principals, validity and extensions', async () => {
    const before = Math.floor(Date.now() / 1000);
    const res = await issue(ann, {publicKey: userKey().pub, ttl: '2h'});
    expect(res.status).toBe(201);
    const body = res.json;
    expect(body).toMatchObject({principals: ['ops', 'root'], ttlSeconds: 7200, keyId: `ann@example.com/${body.serial}`, warnings: []});
    const shown = show(body.certificate);
    expect(shown).toContain(`Key ID: "ann@example.com/${body.serial}"`);
    expect(shown).toContain(`Serial: ${body.serial}`);
    expect(shown).toMatch(/Principals: \n\s+ops\n\s+root\n/);
    expect(shown).toContain('Critical Options: (none)');
    expect(shown).toMatch(/Extensions: \n\s+permit-agent-forwarding\n\s+permit-port-forwarding\n\s+permit-pty\n\s+permit-user-rc\n/);
    expect(shown).toContain(`Signing CA: ED25519`);
    // Valid from one minute ago (clock skew) for the asked two hours.
    expect(Date.parse(body.validAfter) / 1000).toBeGreaterThanOrEqual(before - 61);
    expect(Date.parse(body.validAfter) / 1000).toBeLessThanOrEqual(before - 59 + 5);
    expect((Date.parse(body.validBefore) - Date.parse(body.validAfter)) / 1000).toBe(7200 + 60);
    expect(authz.audit().at(-1)).toMatchObject({event: 'certificate.issued', email: 'ann@example.com', serial: body.serial, principals: ['ops', 'root'], source: '127.0.0.1', x509Serial: ann.serial});
  });

  it("carries the grant's force-command, source addresses and extensions, and caps the lifetime", async () => {
    const db = await issue(carl, {publicKey: userKey('ecdsa', 256).pub, host: 'db1.example.com', ttl: 60});
    expect(db.status).toBe(201);
    const shown = show(db.json.certificate);
    expect(shown).toMatch(/Critical Options: \n\s+force-command \/usr\/bin\/psql\n\s+source-address 127\.0\.0\.1\/32,10\.0\.0\.0\/8\n/);
    expect(shown).toMatch(/Extensions: \n\s+permit-pty\n\s*$/);
    const web = await issue(carl, {publicKey: userKey().pub, host: 'web-3.example.com', ttl: '8h'});
    expect(web.json).toMatchObject({principals: ['deploy'], ttlSeconds: 600, warnings: ['lifetime limited to 10m by the access rules (asked for 8h)']});
  });

  it('uses the configured default lifetime of 8h when none is asked', async () => {
    const res = await issue(ann, {publicKey: userKey().pub, principals: ['ops']});
    expect(res.json).toMatchObject({principals: ['ops'], ttlSeconds: 8 * 3600});
  });

  it('gives each certificate a different random 64-bit serial', async () => {
    const serials = new Set<string>();
    for (let i = 0; i < 5; i++) serials.add((await issue(ann, {publicKey: userKey().pub, principals: ['ops']})).json.serial);
    expect(serials.size).toBe(5);
    expect([...serials].every((s) => BigInt(s) > 0n && BigInt(s) < 2n ** 64n)).toBe(true);
  });
});

describe('refusals', () => {
  const issuedCount = () => (existsSync(join(authz.stateDir, 'issued.jsonl')) ? readFileSync(join(authz.stateDir, 'issued.jsonl'), 'utf8').split('\n').filter(Boolean).length : 0);

  it('refuses a principal that is not granted with 403 naming it, and issues nothing', async () => {
    const count = issuedCount();
    const res = await issue(carl, {publicKey: userKey().pub, principals: ['deploy', 'root'], host: 'web-1.example.com'});
    expect(res.status).toBe(403);
    expect(res.json.error).toEqual({
      code: 'principal_not_allowed',
      message: 'principal "root" is not allowed for carl@example.com on web-1.example.com (allowed: deploy)',
      details: {notAllowed: ['root']},
    });
    expect(issuedCount()).toBe(count);
    expect(authz.audit().at(-1)).toMatchObject({event: 'certificate.refused', email: 'carl@example.com', status: 403, principals: ['deploy', 'root'], host: 'web-1.example.com'});
  });

  it('refuses someone the rules do not know', async () => {
    const res = await issue(eve, {publicKey: userKey().pub});
    expect(res.status).toBe(403);
    expect(res.json.error.message).toBe('eve@example.com is in no group of the access rules');
  });

  it('refuses clients without a certificate, or with one from another CA, with 401 and the reason', async () => {
    const none = await issue(undefined, {publicKey: userKey().pub});
    expect(none.status).toBe(401);
    expect(none.json.error.message).toMatch(/no client certificate/);
    const stranger = await other.issueClient({email: 'ann@example.com'});
    const foreign = await issue(stranger, {publicKey: userKey().pub});
    expect(foreign.status).toBe(401);
    expect(foreign.json.error.message).toMatch(/not issued by the PKI this service trusts/);
    const serverCert = await pki.issueServer({dns: ['ann.example.com']});
    const wrongPurpose = await issue(serverCert, {publicKey: userKey().pub});
    expect(wrongPurpose.status).toBe(401);
    expect(wrongPurpose.json.error.message).toMatch(/not for client authentication/);
    expect(authz.audit().filter((r) => r.event === 'request.refused').map((r) => r.code)).toEqual(['no_client_certificate', 'client_certificate_rejected', 'client_certificate_rejected']);
  });

  it('refuses TLS renegotiation: the certificate of a connection is the one of its handshake, read once', async () => {
    const socket = tlsConnect({port: Number(new URL(authz.url).port), host: '127.0.0.1', servername: 'localhost', ca: readFileSync(pki.caCert), cert: readFileSync(ann.cert), key: readFileSync(ann.key), maxVersion: 'TLSv1.2'});
    await new Promise((resolve) => socket.once('secureConnect', resolve));
    const refused = await new Promise<Error>((resolve) => {
      socket.once('error', resolve);
      socket.renegotiate({}, (error) => error && resolve(error));
    });
    socket.destroy();
    expect(refused).toMatchObject({code: 'ERR_SSL_NO_RENEGOTIATION'});
  });

  it('refuses bad input with 400 and the reason', async () => {
    const pub = userKey().pub;
    const cases: [unknown, RegExp][] = [
      [{publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBad'}, /^publicKey: /],
      [{publicKey: 'hello'}, /publicKey: unknown key type "hello"/],
      [{publicKey: userKey('rsa', 1024).pub}, /RSA keys need at least 2048 bits, this one has 1024/],
      [{publicKey: pub, ttl: 0}, /ttl: expected whole seconds or a duration between 1s and 366d/],
      [{publicKey: pub, ttl: -5}, /ttl: /],
      [{publicKey: pub, ttl: '100y'}, /ttl: /],
      [{publicKey: pub, ttl: 10 ** 12}, /ttl: /],
      [{publicKey: pub, ttl: 1.5}, /ttl: /],
      [{publicKey: pub, admin: true}, /unknown field "admin"/],
      [{publicKey: pub, principals: ['root;rm']}, /principals\[0\]: expected a unix login name/],
      [{principals: ['root']}, /publicKey: required/],
      [[1, 2], /the body must be a JSON object/],
    ];
    for (const [json, reason] of cases) {
      const res = await issue(ann, json);
      expect(res.status, JSON.stringify(json)).toBe(400);
      expect(res.json.error.message, JSON.stringify(json)).toMatch(reason);
    }
    const notJson = await authz.request('/v1/certificates', {body: '{"publicKey":', client: ann});
    expect(notJson.status).toBe(400);
    expect(notJson.json.error.code).toBe('invalid_json');
    const wrongType = await authz.request('/v1/certificates', {body: 'x', contentType: 'text/plain', client: ann});
    expect(wrongType.status).toBe(415);
    expect((await authz.request('/v1/certificates', {method: 'GET', client: ann})).status).toBe(405);
  });
});

describe('revocation', () => {
  it('only admins revoke; by serial or by person; the KRL lists them for ssh-keygen -Q', async () => {
    const keys = [userKey(), userKey(), userKey()];
    const carls = [];
    for (const k of keys.slice(0, 2)) carls.push((await issue(carl, {publicKey: k.pub, host: 'web-1.example.com'})).json);
    const anns = (await issue(ann, {publicKey: keys[2]!.pub, principals: ['ops']})).json;
    const refused = await authz.request('/v1/revoke', {json: {serial: anns.serial}, client: carl});
    expect(refused.status).toBe(403);
    expect(refused.json.error.message).toMatch(/carl@example.com may not revoke certificates/);
    const before = await authz.get('/v1/krl');
    const byPerson = await authz.request('/v1/revoke', {json: {keyId: 'carl@example.com', reason: 'laptop lost'}, client: ann});
    expect(byPerson.status).toBe(200);
    expect([...byPerson.json.revoked].sort()).toEqual(expect.arrayContaining(carls.map((c) => c.serial)));
    const krl = await authz.get('/v1/krl');
    expect(krl.body.equals(before.body)).toBe(false);
    expect(krl.headers.etag).toMatch(/^"krl-1-[0-9a-f]{12}"$/);
    expect((await authz.request('/v1/krl', {headers: {'if-none-match': String(krl.headers.etag)}})).status).toBe(304);
    const krlFile = join(work, 'revoked.krl');
    writeFileSync(krlFile, krl.body);
    const check = (cert: string) => {
      const file = join(work, `q-${Math.random().toString(36).slice(2)}-cert.pub`);
      writeFileSync(file, `${cert}\n`);
      const r = spawnSync('ssh-keygen', ['-Q', '-f', krlFile, file], {encoding: 'utf8'});
      return `${r.status} ${r.stdout}`;
    };
    for (const c of carls) expect(check(c.certificate)).toMatch(/^1 .*REVOKED/);
    expect(check(anns.certificate)).toMatch(/^0 .*ok/);
    const bySerial = await authz.request('/v1/revoke', {json: {serial: anns.serial}, client: ann});
    expect(bySerial.json.revoked).toEqual([anns.serial]);
    writeFileSync(krlFile, (await authz.get('/v1/krl')).body);
    expect(check(anns.certificate)).toMatch(/^1 .*REVOKED/);
    expect(execFileSync('ssh-keygen', ['-Q', '-l', '-f', krlFile], {encoding: 'utf8'})).toContain(`serial: ${anns.serial}`);
    // The principals endpoint refuses a revoked serial too (hosts ask with %s).
    const p = await authz.get(`/v1/principals?user=ops&host=x.example.com&keyId=${encodeURIComponent(anns.keyId)}&serial=${anns.serial}`);
    expect(JSON.parse(p.body.toString())).toMatchObject({principals: [], reason: `certificate ${anns.serial} is revoked`});
    expect((await authz.request('/v1/revoke', {json: {serial: '123'}, client: ann})).status).toBe(404);
    expect((await authz.request('/v1/revoke', {json: {}, client: ann})).json.error.message).toMatch(/exactly one of serial or keyId/);
    expect(authz.audit().filter((r) => r.event === 'certificate.revoked').map((r) => r.reason)).toEqual(['laptop lost', null]);
  });
});

describe('what hosts fetch', () => {
  it('holds GET /v1/krl?wait= of a host that has the current KRL until a revocation changes it, else answers 304 when the wait ends', async () => {
    const etag = String((await authz.get('/v1/krl')).headers.etag);
    let t0 = Date.now();
    const unchanged = await authz.request('/v1/krl?wait=1', {headers: {'if-none-match': etag}});
    expect(unchanged.status).toBe(304);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    const anns = (await issue(ann, {publicKey: userKey().pub, principals: ['ops']})).json;
    t0 = Date.now();
    const held = authz.request('/v1/krl?wait=30', {method: 'HEAD', headers: {'if-none-match': etag}});
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await authz.request('/v1/revoke', {json: {serial: anns.serial}, client: ann})).status).toBe(200);
    const changed = await held;
    expect(changed.status).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
    expect(Date.now() - t0).toBeLessThan(5000);
    // Without If-None-Match, or with an old ETag, the KRL comes at once; a bad wait is a 400.
    t0 = Date.now();
    expect((await authz.request('/v1/krl?wait=30', {headers: {'if-none-match': etag}})).status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(5000);
    const bad = await authz.request('/v1/krl?wait=forever', {});
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toBe('wait: expected whole seconds from 0 to 60');
  });

  it('serves the CA key and the principals a login may use on a host, with the grant restrictions', async () => {
    const ca = await authz.get('/v1/ca.pub');
    expect(ca.status).toBe(200);
    expect(ca.body.toString().trim()).toBe(`${authz.caPublicKey.split(' ').slice(0, 2).join(' ')} cssh-authz user CA`);
    const q = async (query: string) => JSON.parse((await authz.get(`/v1/principals?${query}`)).body.toString());
    expect(await q('user=root&host=web-1.example.com')).toMatchObject({principals: ['root'], lines: ['restrict,pty,agent-forwarding,port-forwarding,user-rc root']});
    expect(await q('user=deploy&host=web-1.example.com&keyId=ann%40example.com%2F42')).toMatchObject({principals: []});
    expect(await q('user=dbadmin&host=db1.example.com&keyId=carl%40example.com%2F42')).toMatchObject({lines: ['restrict,pty,command="/usr/bin/psql",from="127.0.0.1/32,10.0.0.0/8" dbadmin']});
    expect((await authz.get('/v1/principals?user=root')).status).toBe(400);
  });

  it('host-setup writes the files and sshd_config lines a host needs, and sshd accepts them', async () => {
    const out = join(work, 'host');
    const res = await run(join(repoRoot, 'bin', 'cssh-authz'), ['host-setup', '--server', authz.url, '--cacert', authz.serverCa, '--hostname', 'web-1.example.com', '--out-dir', out]);
    expect(res.stdout).toContain(`TrustedUserCAKeys ${out}/cssh_user_ca.pub`);
    expect(res.stdout).toContain('AuthorizedPrincipalsCommand /usr/local/bin/csshctl principals %u --host web-1.example.com --key-id %i --serial %s');
    // cssh-daemon keeps the files fresh: its unit and configuration replace the cron line.
    expect(res.stdout).not.toMatch(/cron|curl/);
    expect(readFileSync(join(out, 'cssh-daemon.service'), 'utf8')).toContain(`ExecStart=/usr/local/bin/cssh-daemon run --config ${out}/cssh-daemon.yaml`);
    expect(readFileSync(join(out, 'cssh-daemon.yaml'), 'utf8')).toContain(`hostname: web-1.example.com\n`);
    expect(res.stdout).toContain('systemctl daemon-reload && systemctl enable --now cssh-daemon');
    expect(readFileSync(join(out, 'cssh_user_ca.pub'), 'utf8')).toContain(authz.caPublicKey.split(' ')[1]);
    expect(readFileSync(join(out, 'cssh_revoked.krl')).subarray(0, 8).toString('latin1')).toBe('SSHKRL\n\0');
    expect(spawnSync('ssh-keygen', ['-Q', '-l', '-f', join(out, 'cssh_revoked.krl')]).status).toBe(0);
    // sshd -t (config test mode) accepts the snippet as is.
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(out, 'host_key')]);
    writeFileSync(join(out, 'test_config'), `${readFileSync(join(out, 'sshd_config'), 'utf8')}HostKey ${join(out, 'host_key')}\nListenAddress 127.0.0.1:22\n`);
    const test = spawnSync('/usr/sbin/sshd', ['-t', '-f', join(out, 'test_config')], {encoding: 'utf8'});
    expect(test.stderr).toBe('');
    expect(test.status).toBe(0);
    const usage = await run(join(repoRoot, 'bin', 'cssh-authz'), ['host-setup'], {allowFailure: true});
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--server <url> is required');
  });
});

describe('reloading', () => {
  it('applies a changed rules file, keeps the rules when the new file is invalid, and reloads on SIGHUP', async () => {
    const key = userKey().pub;
    expect((await issue(carl, {publicKey: key, principals: ['ops']})).status).toBe(403);
    authz.writeRules(RULES.replace('  dev: [carl@example.com]', '  dev: [carl@example.com]\n  oncall: [carl@example.com]').replace('admins: [sre]', '  - group: oncall\n    hosts: all\n    principals: [ops]\nadmins: [sre]'));
    await waitFor('the new rules', async () => (await issue(carl, {publicKey: key, principals: ['ops']})).status === 201, {timeoutMs: 10_000, intervalMs: 300});
    authz.writeRules(RULES.replace('principals: [root, ops]', 'principals: [root, ops]\n    colour: blue'));
    await waitFor('the invalid rules to be logged', () => authz.log().includes('grants[0].colour: unknown key'), {timeoutMs: 10_000});
    expect(authz.log()).toMatch(/rules: \S+rules\.yaml:\d+:\d+: grants\[0\]\.colour: unknown key .*; keeping the rules loaded at/);
    expect((await issue(carl, {publicKey: key, principals: ['ops']})).status).toBe(201);
    writeFileSync(authz.rulesFile, RULES);
    authz.hup();
    await waitFor('SIGHUP reload', async () => (await issue(carl, {publicKey: key, principals: ['ops']})).status === 403, {timeoutMs: 10_000, intervalMs: 300});
    expect(authz.log()).toMatch(/rules: reloaded .* \(SIGHUP\)/);
  });

  it('refuses a client whose PKI certificate is revoked once the CRL changes, without a restart', async () => {
    const dana = await pki.issueClient({email: 'ann@example.com', name: 'Ann (second laptop)'});
    expect((await issue(dana, {publicKey: userKey().pub})).status).toBe(201);
    await pki.revoke(dana);
    await waitFor('the CRL reload', async () => (await issue(dana, {publicKey: userKey().pub})).status === 401, {timeoutMs: 10_000, intervalMs: 300});
    const res = await issue(dana, {publicKey: userKey().pub});
    expect(res.json.error.message).toBe('the client certificate is revoked (PKI CRL) [CERT_REVOKED]');
    expect((await issue(ann, {publicKey: userKey().pub})).status).toBe(201);
  });

  it('fails closed when the CRL expires: every client is refused until a fresh one is published', async () => {
    await pki.writeCrl(-1);
    await waitFor('the expired CRL to load', async () => (await issue(ann, {publicKey: userKey().pub})).status === 401, {timeoutMs: 10_000, intervalMs: 300});
    expect((await issue(ann, {publicKey: userKey().pub})).json.error.message).toMatch(/CRL has expired/);
    await pki.writeCrl(24);
    await waitFor('the fresh CRL', async () => (await issue(ann, {publicKey: userKey().pub})).status === 201, {timeoutMs: 10_000, intervalMs: 300});
  });
});

describe('the service command line', () => {
  it('ca status shows the configured key signing; ca rotate without a secrets key is exit 3 and changes nothing', async () => {
    const bin = join(repoRoot, 'bin', 'cssh-authz');
    const status = await run(bin, ['ca', 'status', '--config', authz.configFile, '--json']);
    const shown = JSON.parse(status.stdout) as {version: number; keys: {id: string; state: string; publicKey: string}[]};
    expect(shown.version).toBe(0);
    expect(shown.keys).toEqual([expect.objectContaining({state: 'signing', publicKey: expect.stringContaining(authz.caPublicKey.split(' ')[1]!)})]);
    const rotate = await run(bin, ['ca', 'rotate', '--config', authz.configFile], {allowFailure: true});
    expect(rotate.code).toBe(3);
    expect(rotate.stderr).toContain('secretsKey is required to rotate the CA');
    expect(existsSync(join(authz.stateDir, 'ca-keyring.json'))).toBe(false);
    const unknown = await run(bin, ['ca', 'spin'], {allowFailure: true});
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "ca spin" (expected ca rotate or ca status)');
  });

  it('secrets-key creates a 0600 key file, refuses to overwrite one, and never follows a symlink', async () => {
    const bin = join(repoRoot, 'bin', 'cssh-authz');
    const file = join(work, 'secrets.key');
    await run(bin, ['secrets-key', '--out', file]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')).toHaveLength(32);
    const again = await run(bin, ['secrets-key', '--out', file], {allowFailure: true});
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('exists; refusing to overwrite a key (--force replaces it)');
    const target = join(work, 'elsewhere');
    writeFileSync(target, 'keep me', {mode: 0o644});
    symlinkSync(target, join(work, 'link.key'));
    // Even --force never writes through (or replaces) a symlink: the shared secret-file rule.
    const link = await run(bin, ['secrets-key', '--out', join(work, 'link.key'), '--force'], {allowFailure: true});
    expect(link.code).toBe(3);
    expect(link.stderr).toContain('is a symbolic link; a secret is never written through one');
    expect(readFileSync(target, 'utf8')).toBe('keep me');
    expect(lstatSync(join(work, 'link.key')).isSymbolicLink()).toBe(true);
  });

  it('refuses an invalid configuration with exit 3 naming the file, line and key', async () => {
    // Beside the real one, so its relative paths (CA key, rules) resolve.
    const file = join(authz.dir, 'bad-config.yaml');
    writeFileSync(file, readFileSync(authz.configFile, 'utf8').replace('listen: 127.0.0.1:0', 'listen: nowhere'));
    const res = await run(join(repoRoot, 'bin', 'cssh-authz'), ['serve', '--config', file], {allowFailure: true});
    expect(res.code).toBe(3);
    expect(res.stderr).toBe(`Error: ${file}:1:9: listen: expected host:port, e.g. 0.0.0.0:8443 or 127.0.0.1:0\n`);
    writeFileSync(file, readFileSync(authz.configFile, 'utf8').replace('auditLog: audit.jsonl', `auditLog: ${join(work, 'not-a-dir')}/audit.jsonl`));
    writeFileSync(join(work, 'not-a-dir'), 'a file');
    const unwritable = await run(join(repoRoot, 'bin', 'cssh-authz'), ['serve', '--config', file], {allowFailure: true});
    expect(unwritable.code).toBe(3);
    expect(unwritable.stderr).toContain(`cannot use ${join(work, 'not-a-dir')}`);
    const check = await run(join(repoRoot, 'bin', 'cssh-authz'), ['check', '--config', authz.configFile]);
    expect(check.stdout).toContain('valid');
    expect((await run(join(repoRoot, 'bin', 'cssh-authz'), ['serve'], {allowFailure: true})).code).toBe(2);
    expect((await run(join(repoRoot, 'bin', 'cssh-authz'), ['frobnicate'], {allowFailure: true})).code).toBe(2);
    expect((await run(join(repoRoot, 'bin', 'cssh-authz'), ['serve', '--help'])).stdout).toContain('cssh-authz serve --config <file>');
  });

  it('signs with rsa-sha2-512, never ssh-rsa, when the CA key is RSA; principals can require a PKI certificate', async () => {
    const rsa = await startCsshAuthz({pki, rules: RULES, caKeyType: 'rsa-4096', extraConfig: 'principalsEndpoint: client-certificate'});
    try {
      const res = await rsa.request('/v1/certificates', {json: {publicKey: userKey().pub}, client: ann});
      expect(show(res.json.certificate)).toMatch(/Signing CA: RSA SHA256:\S+ \(using rsa-sha2-512\)/);
      expect((await rsa.request('/v1/principals?user=root&host=h.example.com', {})).status).toBe(401);
      expect((await rsa.request('/v1/principals?user=root&host=h.example.com', {client: ann})).json).toMatchObject({principals: ['root']});
      expect((await rsa.get('/v1/ca.pub')).status).toBe(200);
    } finally {
      await rsa.stop();
    }
  });
});
