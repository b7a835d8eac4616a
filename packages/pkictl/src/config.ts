import {defineNamespace} from '@bcl/core';
import {z} from 'zod';

/** The `pkictl` namespace: the PKI store and the requester's identity. */
export const pkictlSchema = z.strictObject({
  /** The Git store: a local path or any git remote URL. */
  store: z.string().min(1).optional(),
  /** The requester's email, used as the certificate identity. */
  email: z.email().optional(),
  /** The requester's common name. */
  name: z.string().min(1).optional(),
  profile: z.string().min(1).default('client'),
  keyType: z.enum(['ecdsa-p256', 'rsa-3072', 'ed25519']).default('ecdsa-p256'),
});

export type PkictlSettings = z.output<typeof pkictlSchema>;
export default defineNamespace('pkictl', pkictlSchema, 'certificates: the PKI store and your identity');
