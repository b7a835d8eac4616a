import {defineNamespace, projectKey, trustedKey} from '@bcl/core';
import {DURATION_EXAMPLES, parseDuration} from '@bcl/cssh-authz/api';
import * as z from 'zod';

// cssh-authz's grammar: what the service accepts in a request, the configuration accepts.
const duration = () => z.string().refine((d) => (parseDuration(d) ?? 0) > 0, `expected ${DURATION_EXAMPLES}`);

/** The `csshctl` namespace: the SSH certificate service and which PKI certificate to use (built on first use, see defineNamespace). */
export const csshctlSchema = () => z.strictObject({
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
  ttl: projectKey(duration().default('1h')),
  /** Use this private key (its .pub beside it) instead of a new ephemeral Ed25519 key per certificate. */
  sshKey: trustedKey(z.string().min(1).optional()),
  /** The ssh client program. */
  ssh: trustedKey(z.string().min(1).default('ssh')),
  /** A certificate with less validity left than this is not reused by `csshctl ssh`. */
  renewBefore: projectKey(duration().default('2m')),
  /** cssh-daemon's state directory on a host: `bcl doctor` reports the daemon's status from it. */
  daemonState: trustedKey(z.string().min(1).default('/var/lib/cssh-daemon')),
});

export type CsshctlSettings = z.output<ReturnType<typeof csshctlSchema>>;
export default defineNamespace('csshctl', csshctlSchema, 'SSH certificates: the access service and your PKI certificate', {
  defaults: {ttl: '1h', ssh: 'ssh', renewBefore: '2m', daemonState: '/var/lib/cssh-daemon'},
});
