import {describe, expect, it} from 'vitest';
import type {AuditEvent, AuthzStore, IssuedRecord} from '../src/store/types.js';

/**
 * What every AuthzStore must do, as tests any implementation runs (the state directory today, a
 * database next): a store is opened fresh per test; `reopen` opens the same state again, and
 * `auditOf` reads the audit trail back.
 */
export interface StoreUnderTest {
  store: AuthzStore;
  reopen(): Promise<AuthzStore>;
  auditOf(): Promise<AuditEvent[]>;
  remove(): Promise<void>;
}

const NOW = new Date('2030-06-01T12:00:00Z');
const later = (s: number) => new Date(NOW.getTime() + s * 1000);

function record(serial: bigint, email = 'ann@example.com', validSeconds = 3600): IssuedRecord {
  return {serial: serial.toString(), keyId: `${email}/${serial}`, email, principals: ['ops'], validAfter: NOW.toISOString(), validBefore: later(validSeconds).toISOString(), issuedAt: NOW.toISOString()};
}

const event = (name: string, extra: Record<string, unknown> = {}): AuditEvent => ({time: NOW.toISOString(), event: name, ...extra});

export function storeContract(name: string, open: () => Promise<StoreUnderTest>): void {
  const withStore = (fn: (t: StoreUnderTest) => Promise<void>) => async () => {
    const t = await open();
    try {
      await fn(t);
    } finally {
      await t.store.close().catch(() => undefined);
      await t.remove();
    }
  };

  describe(`${name}: the AuthzStore contract`, () => {
    it(
      'issues under unique non-zero serials, storing ledger row and audit event before answering',
      withStore(async (t) => {
        const serials = await Promise.all(Array.from({length: 200}, () => t.store.issue(async (serial) => ({record: record(serial), audit: event('certificate.issued', {serial: serial.toString()}), result: serial}))));
        expect(new Set(serials.map(String)).size).toBe(200);
        expect(serials.every((s) => s > 0n && s < 2n ** 64n)).toBe(true);
        const first = serials[0]!.toString();
        expect(await t.store.findIssued(first, NOW)).toMatchObject({serial: first, email: 'ann@example.com'});
        expect(await t.store.findIssued(first, later(3601))).toBeUndefined();
        expect(await t.store.validIssuedFor('ANN@example.com', NOW)).toHaveLength(200);
        expect(await t.store.countValid(NOW)).toBe(200);
        expect((await t.auditOf()).filter((e) => e.event === 'certificate.issued')).toHaveLength(200);
      }),
    );

    it(
      'stores nothing of an issuance whose signing fails',
      withStore(async (t) => {
        await expect(t.store.issue(async () => Promise.reject(new Error('HSM unplugged')))).rejects.toThrow('HSM unplugged');
        expect(await t.store.countValid(NOW)).toBe(0);
        expect(await t.auditOf()).toEqual([]);
      }),
    );

    it(
      'revokes under one writer: the KRL version goes up by one per change, never for nothing new',
      withStore(async (t) => {
        const issued = await Promise.all([1, 2, 3].map(() => t.store.issue(async (serial) => ({record: record(serial), audit: event('certificate.issued'), result: record(serial)}))));
        expect(await t.store.krlVersion()).toBe(0);
        const by = {email: 'admin@example.com', reason: 'lost', at: NOW};
        const first = await t.store.revoke([issued[0]!], by, (o) => event('certificate.revoked', {...o}));
        expect(first).toEqual({revoked: [issued[0]!.serial], alreadyRevoked: [], krlVersion: 1});
        // Concurrent revocations are ordered: each gets its own version.
        const outcomes = await Promise.all([t.store.revoke([issued[1]!], by, (o) => event('certificate.revoked', {...o})), t.store.revoke([issued[2]!], by, (o) => event('certificate.revoked', {...o}))]);
        expect(outcomes.map((o) => o.krlVersion).sort()).toEqual([2, 3]);
        const again = await t.store.revoke([issued[0]!], by, (o) => event('certificate.revoked', {...o}));
        expect(again).toEqual({revoked: [], alreadyRevoked: [issued[0]!.serial], krlVersion: 3});
        expect(await t.store.isRevoked(issued[1]!.serial)).toBe(true);
        const {version, revocations} = await t.store.revocations(NOW);
        expect(version).toBe(3);
        expect(revocations.map((r) => r.serial).sort()).toEqual(issued.map((i) => i.serial).sort());
        expect((await t.store.revocations(later(7200))).revocations).toEqual([]);
        expect((await t.auditOf()).filter((e) => e.event === 'certificate.revoked').map((e) => e.krlVersion)).toEqual([1, expect.any(Number), expect.any(Number), 3]);
      }),
    );

    it(
      'replaces the CA keyring only from the version it was read at',
      withStore(async (t) => {
        expect(await t.store.caKeyring()).toEqual({version: 0, keys: []});
        const key = {id: 'SHA256:new', publicKey: 'ssh-ed25519 AAAA', activatedAt: NOW.toISOString(), retiresAt: null, sealedPrivateKey: 'v1.x.y.z'};
        expect(await t.store.replaceCaKeyring(0, [key], event('ca.rotated'))).toBe(true);
        expect(await t.store.replaceCaKeyring(0, [], event('ca.rotated'))).toBe(false);
        expect(await t.store.caKeyring()).toEqual({version: 1, keys: [key]});
        expect((await t.auditOf()).filter((e) => e.event === 'ca.rotated')).toHaveLength(1);
      }),
    );

    it(
      'accepts each TOTP step once and only later ones, activating a pending enrolment; failures counted until a success',
      withStore(async (t) => {
        const email = 'ann@example.com';
        await t.store.saveTotpEnrolment({email, sealedSecret: 'v1.a.b.c', state: 'pending', createdAt: NOW.toISOString(), confirmedAt: null, lastStep: 0}, event('totp.enrolled'));
        await t.store.addTotpFailure(email, NOW, event('totp.failed'));
        await t.store.addTotpFailure(email, later(10), event('totp.failed'));
        expect(await t.store.totpFailuresSince(email, NOW)).toBe(2);
        expect(await t.store.totpFailuresSince(email, later(5))).toBe(1);
        const use = (step: number, activate = false) => t.store.useTotpStep(email, step, {activate, at: NOW}, event('totp.accepted', {step}));
        const [a, b] = await Promise.all([use(100, true), use(100)]);
        expect([a, b].sort()).toEqual([false, true]);
        expect(await t.store.totpEnrolment(email)).toMatchObject({state: 'active', lastStep: 100, confirmedAt: NOW.toISOString()});
        expect(await t.store.totpFailuresSince(email, NOW)).toBe(0);
        expect(await use(99)).toBe(false);
        expect(await use(101)).toBe(true);
        expect(await t.store.useTotpStep('nobody@example.com', 5, {activate: false, at: NOW}, event('totp.accepted'))).toBe(false);
        expect((await t.auditOf()).filter((e) => e.event === 'totp.accepted')).toHaveLength(2);
      }),
    );

    it(
      'keeps everything across a restart',
      withStore(async (t) => {
        const issued = await t.store.issue(async (serial) => ({record: record(serial, 'carl@example.com'), audit: event('certificate.issued'), result: record(serial, 'carl@example.com')}));
        await t.store.revoke([issued], {email: 'a@example.com', reason: '', at: NOW}, (o) => event('certificate.revoked', {...o}));
        await t.store.saveTotpEnrolment({email: 'carl@example.com', sealedSecret: 's', state: 'active', createdAt: NOW.toISOString(), confirmedAt: NOW.toISOString(), lastStep: 7}, event('totp.enrolled'));
        await t.store.replaceCaKeyring(0, [{id: 'SHA256:k', publicKey: 'ssh-ed25519 AAAA', activatedAt: NOW.toISOString(), retiresAt: null, sealedPrivateKey: null}], event('ca.rotated'));
        await t.store.close();
        const again = await t.reopen();
        t.store = again;
        expect(await again.findIssued(issued.serial, NOW)).toMatchObject({email: 'carl@example.com'});
        expect(await again.isRevoked(issued.serial)).toBe(true);
        expect(await again.krlVersion()).toBe(1);
        expect(await again.totpEnrolment('carl@example.com')).toMatchObject({lastStep: 7});
        expect((await again.caKeyring()).version).toBe(1);
        // A serial of the ledger is never drawn again.
        const next = await again.issue(async (serial) => ({record: record(serial), audit: event('certificate.issued'), result: serial.toString()}));
        expect(next).not.toBe(issued.serial);
      }),
    );
  });
}
