// The TOTP factor on a real store, its codes computed by Debian's oathtool (RFC 6238 reference
// behaviour, installed by scripts/lib/cssh.sh), against a clock the test moves.
import {execFileSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {SecretsKey} from './secrets.js';
import {FileStore} from './store/file-store.js';
import {TotpFactor} from './totp.js';

/** The code oathtool computes for `secret` at `at`. */
function oathtool(secret: string, at: Date): string {
  return execFileSync('oathtool', ['--totp', '--base32', '--now', at.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC'), secret], {encoding: 'utf8'}).trim();
}

let dir: string;
let store: FileStore;
let clock: Date;
const who = {email: 'ann@example.com', source: '127.0.0.1'};
const secrets = SecretsKey.fromText(SecretsKey.generate())!;
const factor = () => new TotpFactor(store, secrets, {issuer: 'Example SSH', maxFailures: 3, failureWindowSeconds: 900}, () => clock);
const audit = () => readFileSync(join(dir, 'audit.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as {event: string; reason?: string});
const step = (n: number) => new Date(clock.getTime() + n * 30_000);

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cssh-totp-'));
  store = await FileStore.open({stateDir: join(dir, 'state'), auditLog: join(dir, 'audit.jsonl')});
  clock = new Date('2030-03-01T10:00:10Z');
});
afterEach(async () => {
  await store.close();
  rmSync(dir, {recursive: true, force: true});
});

async function enrolled(): Promise<string> {
  const shown = await factor().enrol('ann@example.com', who, undefined);
  await factor().confirm('ann@example.com', oathtool(shown.secret, clock), who);
  clock = step(1);
  return shown.secret;
}

describe('the TOTP second factor', () => {
  it('enrols with an otpauth URI an app reads; the secret is stored sealed; the first code confirms it', async () => {
    const shown = await factor().enrol('ann@example.com', who, undefined);
    expect(shown).toMatchObject({account: 'ann@example.com', issuer: 'Example SSH', algorithm: 'SHA1', digits: 6, period: 30, state: 'pending'});
    expect(shown.secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(shown.otpauthUri);
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/Example SSH:ann@example.com');
    expect(Object.fromEntries(uri.searchParams)).toMatchObject({secret: shown.secret, issuer: 'Example SSH'});
    // Absent parameters mean SHA1, 6 digits, 30 s to every authenticator app (Key Uri Format).
    expect([uri.searchParams.get('algorithm') ?? 'SHA1', uri.searchParams.get('digits') ?? '6', uri.searchParams.get('period') ?? '30']).toEqual(['SHA1', '6', '30']);
    expect(readFileSync(join(dir, 'state', 'totp.json'), 'utf8')).not.toContain(shown.secret);
    // Pending: a grant with mfa: totp still refuses, naming what to do.
    await expect(factor().require('ann@example.com', oathtool(shown.secret, clock), who, [0])).rejects.toMatchObject({status: 403, code: 'totp_not_enrolled'});
    await expect(factor().confirm('ann@example.com', oathtool(shown.secret, clock), who)).resolves.toMatchObject({state: 'active'});
    expect(audit().map((e) => e.event)).toEqual(['totp.enrolled', 'totp.confirmed']);
  });

  it("accepts oathtool's code once, and the neighbouring steps' codes (one step each way), nothing further", async () => {
    const secret = await enrolled();
    const f = factor();
    await expect(f.require('ann@example.com', undefined, who, [2])).rejects.toMatchObject({status: 401, code: 'totp_required', message: expect.stringContaining('grant 2 requires mfa: totp')});
    const code = oathtool(secret, clock);
    await expect(f.require('ann@example.com', code, who, [0])).resolves.toBeUndefined();
    await expect(f.require('ann@example.com', code, who, [0])).rejects.toMatchObject({status: 401, code: 'totp_replayed'});
    // The next step's code is good now (a clock one step ahead)...
    await expect(f.require('ann@example.com', oathtool(secret, step(1)), who, [0])).resolves.toBeUndefined();
    // ...but not two steps ahead, and never an earlier step once a later one was used.
    clock = step(1);
    await expect(f.require('ann@example.com', oathtool(secret, step(2)), who, [0])).rejects.toMatchObject({code: 'totp_invalid'});
    await expect(f.require('ann@example.com', oathtool(secret, step(-1)), who, [0])).rejects.toMatchObject({code: 'totp_replayed'});
    expect(audit().filter((e) => e.event === 'totp.failed').map((e) => e.reason)).toEqual(['replayed', 'wrong', 'replayed']);
  });

  it('rate limits wrong codes: past maxFailures in the window even the right code is refused, until the window passes', async () => {
    const secret = await enrolled();
    const f = factor();
    await expect(f.require('ann@example.com', '12345', who, [0])).rejects.toMatchObject({code: 'totp_invalid', message: expect.stringContaining('expected the 6 digits')});
    await expect(f.require('ann@example.com', oathtool(secret, step(30)), who, [0])).rejects.toMatchObject({code: 'totp_invalid'});
    await expect(f.require('ann@example.com', oathtool(secret, step(40)), who, [0])).rejects.toMatchObject({code: 'totp_invalid'});
    await expect(f.require('ann@example.com', oathtool(secret, clock), who, [0])).rejects.toMatchObject({status: 429, code: 'totp_rate_limited'});
    clock = new Date(clock.getTime() + 901_000);
    await expect(f.require('ann@example.com', oathtool(secret, clock), who, [0])).resolves.toBeUndefined();
    expect(audit().filter((e) => e.event === 'totp.failed')).toHaveLength(3);
  });

  it('replaces an active enrolment only with a current code of it', async () => {
    const secret = await enrolled();
    await expect(factor().enrol('ann@example.com', who, undefined)).rejects.toMatchObject({status: 409, code: 'totp_enrolled'});
    const again = await factor().enrol('ann@example.com', who, oathtool(secret, clock));
    expect(again.secret).not.toBe(secret);
  });

  it('refuses to work without a secrets key, saying so', async () => {
    const f = new TotpFactor(store, undefined, {issuer: 'x', maxFailures: 3, failureWindowSeconds: 60}, () => clock);
    await expect(f.enrol('ann@example.com', who, undefined)).rejects.toMatchObject({status: 503, code: 'mfa_unavailable'});
  });
});
