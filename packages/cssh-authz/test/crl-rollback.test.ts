// An older CRL must never un-revoke (the highest CRL number per issuer is remembered in the
// state directory, across restarts): the real service, a real openssl PKI and its CRLs.
import {readFileSync, renameSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {createOpensslPki, type CsshAuthz, type IssuedX509, type OpensslPki, repoRoot, run, startCsshAuthz, waitFor} from '@bcl/testkit';
import {afterAll, beforeAll, expect, it} from 'vitest';

const RULES = 'groups:\n  sre: [ann@example.com]\nhostGroups:\n  all: ["*"]\ngrants:\n  - {group: sre, hosts: all, principals: [ops]}\n';
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHp3CO3oYQ9AD5HKGD7qY+Zt0s6b3VdNq0N3L4kH2m8M test';

let pki: OpensslPki;
let authz: CsshAuthz;
let ann: IssuedX509;

beforeAll(async () => {
  pki = await createOpensslPki('Company PKI');
  ann = await pki.issueClient({email: 'ann@example.com'});
  authz = await startCsshAuthz({pki, rules: RULES});
});

afterAll(async () => {
  await authz?.stop();
  pki?.remove();
});

const issue = () => authz.request('/v1/certificates', {json: {publicKey: KEY}, client: ann});
const health = async () => JSON.parse((await authz.get('/healthz')).body.toString()) as {tls: {ok: boolean; problem?: string; crls: {number: string}[]}};

it('refuses an older CRL put back in place, keeps the revocation, says so in the log and /healthz, and remembers it across a restart', async () => {
  const crlBeforeRevocation = readFileSync(pki.crl);
  expect((await issue()).status).toBe(201);
  await pki.revoke(ann);
  await waitFor('the new CRL to apply', async () => (await issue()).status === 401, {timeoutMs: 10_000, intervalMs: 300});
  expect((await health()).tls).toMatchObject({ok: true, crls: [{number: '2'}]});

  // The earlier CRL is still within its validity: before the fix it was loaded and Ann was back in.
  writeFileSync(`${pki.crl}.old`, crlBeforeRevocation);
  renameSync(`${pki.crl}.old`, pki.crl);
  // Either the service refuses the file, or (the defect) Ann gets certificates again.
  await waitFor('the service to react to the older CRL', async () => authz.log().includes('CRL ROLLBACK REFUSED') || (await issue()).status === 201, {timeoutMs: 10_000, intervalMs: 300});
  const refused = await issue();
  expect(refused.status).toBe(401);
  expect(refused.json.error.message).toBe('the client certificate is revoked (PKI CRL) [CERT_REVOKED]');
  expect(authz.log()).toContain('refusing the CRL of CN=Company PKI with CRL number 1: CRL number 2 was already loaded');
  expect(authz.log()).toContain('keeping the previous TLS material');
  expect((await health()).tls).toMatchObject({ok: false, problem: expect.stringContaining('CRL number 1'), crls: [{number: '2'}]});

  // A restart reads the numbers from the state directory: it will not start on the older CRL.
  const bin = join(repoRoot, 'bin', 'cssh-authz');
  const restart = await run(bin, ['serve', '--config', authz.configFile], {allowFailure: true, timeoutMs: 30_000});
  expect(restart.code).toBe(3);
  expect(restart.stderr).toContain(`${pki.crl}: refusing the CRL of CN=Company PKI with CRL number 1: CRL number 2 was already loaded`);
  const check = await run(bin, ['check', '--config', authz.configFile], {allowFailure: true});
  expect(check.code).toBe(3);

  // A newer CRL is taken again, and the signal clears.
  await pki.writeCrl(24);
  await waitFor('the newer CRL to load', async () => (await health()).tls.ok, {timeoutMs: 10_000, intervalMs: 300});
  expect((await health()).tls.crls).toMatchObject([{number: '3'}]);
  expect((await issue()).status).toBe(401);
});

it('refuses a CRL not signed by the client CA, so a forged high number cannot lock out the real CRLs', async () => {
  const other = await createOpensslPki('Company PKI');
  try {
    writeFileSync(`${pki.crl}.new`, readFileSync(other.crl));
    renameSync(`${pki.crl}.new`, pki.crl);
    await waitFor('the foreign CRL to be refused', () => authz.log().includes("the CRL's signature does not verify with the key of CN=Company PKI"), {timeoutMs: 10_000});
    expect((await health()).tls).toMatchObject({ok: false, crls: [{number: '3'}]});
  } finally {
    other.remove();
  }
});
