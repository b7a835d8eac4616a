import {defineNamespace, projectKey, trustedKey} from '@bcl/core';
import {z} from 'zod';

const duration = z.string().regex(/^(\d+[smhd])+$/, 'expected a duration such as 30m, 8h or 1h30m');

/** The `csshctl` namespace: the SSH certificate service and which PKI certificate to use. */
export const csshctlSchema = z.strictObject({
  /** The cssh-authz base URL (https). */
  server: trustedKey(z.url({protocol: /^https$/, error: 'expected the https:// URL of cssh-authz'}).optional()),
  /** PEM bundle that signs the server's TLS certificate (default: system roots). */
  serverCa: trustedKey(z.string().min(1).optional()),
  /**
   * The pkictl certificate to authenticate with: its serial (hex) or email, looked up among the
   * certificates pkictl fetched; or explicit files {cert, key}. Default: the valid client
   * certificate of pkictl.email (or any) that expires last.
   */
  certificate: trustedKey(
    z
    .union([z.string().min(1), z.strictObject({cert: z.string().min(1), key: z.string().min(1)})], {
      error: 'expected a certificate serial or email, or {cert: <file>, key: <file>}',
    })
    .optional(),
  ),
  /** Certificate lifetime asked for by default. */
  ttl: projectKey(duration.default('1h')),
  /** Use this private key (its .pub beside it) instead of a new ephemeral Ed25519 key per certificate. */
  sshKey: trustedKey(z.string().min(1).optional()),
  /** The ssh client program. */
  ssh: trustedKey(z.string().min(1).default('ssh')),
  /** A certificate with less validity left than this is not reused by `csshctl ssh`. */
  renewBefore: projectKey(duration.default('2m')),
});

export type CsshctlSettings = z.output<typeof csshctlSchema>;
export default defineNamespace('csshctl', csshctlSchema, 'SSH certificates: the access service and your PKI certificate');
