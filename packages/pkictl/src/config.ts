import {defineNamespace, projectKey, trustedKey} from '@bcl/core';
import {z} from 'zod';

/** The `pkictl` namespace: the PKI store, the requester's identity and the CA admin's key. */
export const pkictlSchema = z.strictObject({
  /** The Git store: a local path or any git remote URL. */
  store: trustedKey(z.string({error: 'expected the store: a path or a git URL'}).min(1).optional()),
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
export default defineNamespace('pkictl', pkictlSchema, 'certificates: the PKI store and your identity');
