import {defineNamespace, projectKey, trustedKey} from '@bcl/core';
import * as z from 'zod';

/** The `pkictl` namespace: the PKI store or server, the requester's identity and the CA admin's key. */
export const pkictlSchema = z.strictObject({
  /** The Git store: a local path or any git remote URL. */
  store: trustedKey(z.string({error: 'expected the store: a path or a git URL'}).min(1).optional()),
  /**
   * The PKI server (https://pki.example.com): when set, pkictl signs in with the company's identity
   * provider and asks the server instead of a Git store (an explicit --store still picks the store).
   */
  server: trustedKey(z.url({protocol: /^https?$/, error: 'expected the PKI server\'s URL, e.g. https://pki.example.com'}).optional()),
  /** A CA bundle (PEM file) for the PKI server's own TLS certificate, when it is not publicly trusted. */
  serverCa: trustedKey(z.string().min(1).optional()),
  /**
   * The SHA-256 fingerprint of the store's root CA certificate, pinned on first use (like SSH's
   * known_hosts): a store whose CA differs is refused. A trust root: only the user's own layers.
   */
  caFingerprint: trustedKey(
    z
    .string()
    .regex(/^\s*(sha-?256\s*(fingerprint)?\s*[:=]?\s*)?([0-9a-f]{2}:?){31}[0-9a-f]{2}\s*$/i, {error: 'expected a SHA-256 fingerprint: 32 hex bytes, as `openssl x509 -fingerprint -sha256` prints them'})
    .optional(),
  ),
  /** The requester's email, used as the certificate identity. */
  email: projectKey(z.email({error: 'expected an email address'}).optional()),
  /** The requester's common name (default: the email). */
  name: projectKey(z.string().min(1).max(64, {error: 'a common name has at most 64 characters'}).optional()),
  /** The certificate profile requested by default (a profile of the store's policy.yaml). */
  profile: projectKey(z.string().min(1).default('client')),
  keyType: projectKey(z.enum(['ecdsa-p256', 'rsa-3072', 'ed25519']).default('ecdsa-p256')),
  /** Encrypt new private keys with a passphrase (PKCS#8). */
  encryptKeys: projectKey(z.boolean().default(false)),
  /** CA admins: the encrypted CA private key file (kept outside the store). */
  caKey: trustedKey(z.string().min(1).optional()),
});

export type PkictlSettings = z.output<typeof pkictlSchema>;
export default defineNamespace('pkictl', pkictlSchema, 'certificates: the PKI server or store, and your identity');
