import {createPrivateKey} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {caFromKey, generateCaKey} from './ca.js';
import {caKeysAt, describeKeyring, KeyringError, openSealedCa, rotatedKeyring} from './keyring.js';
import {SecretsKey} from './secrets.js';
import type {CaKeyring} from './store/types.js';

const configured = caFromKey(createPrivateKey(generateCaKey('ed25519').pem));
const secrets = SecretsKey.fromText(SecretsKey.generate())!;
const t0 = new Date('2030-01-01T00:00:00Z');
const at = (hours: number) => new Date(t0.getTime() + hours * 3600_000);
const open = (r: Parameters<typeof openSealedCa>[0]) => openSealedCa(r, secrets);

describe('the CA keyring', () => {
  it('is the configured key alone until the first rotation', () => {
    const keys = caKeysAt({version: 0, keys: []}, configured, t0, open);
    expect(keys.signing.id).toBe(configured.id);
    expect(keys.trusted.map((k) => k.id)).toEqual([configured.id]);
  });

  it('rotates: the new key signs at once, the old one is trusted for the overlap, then dropped', () => {
    const {keys, added, retiring} = rotatedKeyring({version: 0, keys: []}, configured, {now: t0, overlapSeconds: 8 * 3600, type: 'ed25519', secrets});
    expect(retiring).toEqual([{id: configured.id, publicKey: configured.publicLine, activatedAt: new Date(0).toISOString(), retiresAt: at(8).toISOString(), sealedPrivateKey: null}]);
    expect(added.sealedPrivateKey).toMatch(/^v1\./);
    expect(added.sealedPrivateKey).not.toContain('PRIVATE KEY');
    const ring: CaKeyring = {version: 1, keys};
    const during = caKeysAt(ring, configured, at(1), open);
    expect(during.signing.id).toBe(added.id);
    expect(during.signing.id).not.toBe(configured.id);
    expect(during.trusted.map((k) => k.id)).toEqual([configured.id, added.id]);
    const after = caKeysAt(ring, configured, at(8), open);
    expect(after.trusted.map((k) => k.id)).toEqual([added.id]);
    expect(after.stamp).not.toBe(during.stamp);
    expect(describeKeyring(ring, configured, at(1)).keys.map((k) => [k.state, k.left ?? null])).toEqual([['trusted', '7h'], ['signing', null]]);
    // A second rotation keeps the first key's overlap and retires the second's private key.
    const second = rotatedKeyring(ring, configured, {now: at(2), overlapSeconds: 3600, type: 'ed25519', secrets});
    expect(second.keys.map((k) => [k.id, k.retiresAt, k.sealedPrivateKey === null])).toEqual([
      [configured.id, at(8).toISOString(), true],
      [added.id, at(3).toISOString(), true],
      [second.added.id, null, false],
    ]);
  });

  it("refuses to sign when ca.key is not the keyring's signing key, or a sealed key cannot be opened", () => {
    const other = caFromKey(createPrivateKey(generateCaKey('ed25519').pem));
    const ring: CaKeyring = {version: 1, keys: [{id: configured.id, publicKey: configured.publicLine, activatedAt: t0.toISOString(), retiresAt: null, sealedPrivateKey: null}]};
    expect(() => caKeysAt(ring, other, t0, open)).toThrow(KeyringError);
    expect(() => caKeysAt(ring, other, t0, open)).toThrow(`the CA keyring's signing key is ${configured.id}, but ca.key holds ${other.id}`);
    const {keys} = rotatedKeyring({version: 0, keys: []}, configured, {now: t0, overlapSeconds: 60, type: 'ed25519', secrets});
    expect(() => caKeysAt({version: 1, keys}, configured, t0, (r) => openSealedCa(r, undefined))).toThrow(/configure secretsKey/);
  });
});
