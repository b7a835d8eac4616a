import {createPrivateKey} from 'node:crypto';
import {parsePublicKey} from '@bcl/openssh-formats';
import {caFromKey, generateCaKey, type CaKeyType, type SshCa} from './ca.js';
import {formatDuration} from './duration.js';
import type {SecretsKey} from './secrets.js';
import type {CaKeyRecord, CaKeyring} from './store/types.js';

/**
 * The CA keys in force at a moment: the one that signs, and every one hosts must trust (the
 * signing key and those retiring within their overlap). Before any rotation it is the configured
 * `ca.key` alone; afterwards the keyring in the store decides, on every replica alike.
 */
export interface CaKeys {
  signing: SshCa;
  trusted: {id: string; publicLine: string; blob: Buffer; retiresAt: string | null}[];
  /** Changes whenever signing or trusted keys change (keyring version, keys past their overlap). */
  stamp: string;
}

export class KeyringError extends Error {
  override readonly name = 'KeyringError';
}

const purpose = (id: string) => `ca-key:${id}`;

/** The keys in force at `now`. `openSealed` unseals a rotated-in signing key (the caller caches it). */
export function caKeysAt(keyring: CaKeyring, configured: SshCa, now: Date, openSealed: (record: CaKeyRecord) => SshCa): CaKeys {
  if (keyring.keys.length === 0) {
    return {signing: configured, trusted: [{id: configured.id, publicLine: configured.publicLine, blob: configured.blob, retiresAt: null}], stamp: `0:${configured.id}`};
  }
  const t = now.getTime();
  const inForce = keyring.keys.filter((k) => Date.parse(k.activatedAt) <= t && (k.retiresAt === null || Date.parse(k.retiresAt) > t));
  const signer = inForce.filter((k) => k.retiresAt === null).sort((a, b) => Date.parse(b.activatedAt) - Date.parse(a.activatedAt))[0];
  if (!signer) throw new KeyringError(`the CA keyring (version ${keyring.version}) has no signing key in force; run cssh-authz ca rotate`);
  let signing: SshCa;
  if (signer.sealedPrivateKey === null) {
    if (signer.id !== configured.id) {
      throw new KeyringError(`the CA keyring's signing key is ${signer.id}, but ca.key holds ${configured.id}; restore that file or run cssh-authz ca rotate`);
    }
    signing = configured;
  } else signing = openSealed(signer);
  const trusted = inForce.map((k) => ({id: k.id, publicLine: k.publicKey, blob: parsePublicKey(k.publicKey).blob, retiresAt: k.retiresAt}));
  return {signing, trusted, stamp: `${keyring.version}:${inForce.map((k) => k.id).join(',')}`};
}

/** Unseals a rotated-in CA key; `secrets` missing is a configuration error naming the key. */
export function openSealedCa(record: CaKeyRecord, secrets: SecretsKey | undefined): SshCa {
  if (!secrets) throw new KeyringError(`the signing CA key ${record.id} was rotated in and is sealed in the store: configure secretsKey`);
  if (record.sealedPrivateKey === null) throw new KeyringError(`the CA key ${record.id} has no private key in the keyring`);
  return caFromKey(createPrivateKey(secrets.open(record.sealedPrivateKey, purpose(record.id))));
}

/**
 * The keyring after a rotation at `now`: a new key signs from now on; the keys that signed until
 * now stay trusted for `overlapSeconds`, without their private keys; keys past their overlap go.
 */
export function rotatedKeyring(
  keyring: CaKeyring,
  configured: SshCa,
  options: {now: Date; overlapSeconds: number; type: CaKeyType; secrets: SecretsKey},
): {keys: CaKeyRecord[]; added: CaKeyRecord; retiring: CaKeyRecord[]} {
  const t = options.now.getTime();
  const current: CaKeyRecord[] =
    keyring.keys.length > 0 ? keyring.keys : [{id: configured.id, publicKey: configured.publicLine, activatedAt: new Date(0).toISOString(), retiresAt: null, sealedPrivateKey: null}];
  const retiresAt = new Date(t + options.overlapSeconds * 1000).toISOString();
  const kept = current
    .filter((k) => k.retiresAt === null || Date.parse(k.retiresAt) > t)
    .map((k) => (k.retiresAt === null ? {...k, retiresAt, sealedPrivateKey: null} : k));
  const fresh = generateCaKey(options.type);
  const ca = caFromKey(createPrivateKey(fresh.pem));
  const added: CaKeyRecord = {id: ca.id, publicKey: ca.publicLine, activatedAt: options.now.toISOString(), retiresAt: null, sealedPrivateKey: options.secrets.seal(fresh.pem, purpose(ca.id))};
  return {keys: [...kept, added], added, retiring: kept.filter((k) => k.retiresAt === retiresAt)};
}

/** The keyring as people read it (`cssh-authz ca status`, the audit log): no private material. */
export function describeKeyring(keyring: CaKeyring, configured: SshCa, now: Date): {version: number; keys: {id: string; publicKey: string; activatedAt: string; retiresAt: string | null; state: 'signing' | 'trusted' | 'retired'; left?: string}[]} {
  const keys = keyring.keys.length > 0 ? keyring.keys : [{id: configured.id, publicKey: configured.publicLine, activatedAt: new Date(0).toISOString(), retiresAt: null, sealedPrivateKey: null}];
  const t = now.getTime();
  return {
    version: keyring.version,
    keys: keys.map((k) => {
      const retired = k.retiresAt !== null && Date.parse(k.retiresAt) <= t;
      return {
        id: k.id,
        publicKey: k.publicKey,
        activatedAt: k.activatedAt,
        retiresAt: k.retiresAt,
        state: retired ? 'retired' : k.retiresAt === null ? 'signing' : 'trusted',
        ...(k.retiresAt !== null && !retired ? {left: formatDuration((Date.parse(k.retiresAt) - t) / 1000)} : {}),
      };
    }),
  };
}
