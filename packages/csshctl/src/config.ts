import {defineNamespace} from '@bcl/core';
import {z} from 'zod';

/** The `csshctl` namespace: the SSH certificate service and which PKI certificate to use. */
export const csshctlSchema = z.strictObject({
  /** The cssh-authz base URL (https). */
  server: z.url({protocol: /^https$/}).optional(),
  /** PEM bundle that signs the server's TLS certificate (default: system roots). */
  serverCa: z.string().min(1).optional(),
  /** The pkictl certificate to authenticate with: its serial, or paths to its files. */
  certificate: z.string().min(1).optional(),
  /** Default certificate lifetime asked for, e.g. 1h. */
  ttl: z.string().regex(/^\d+[smh]$/, 'a duration such as 30m or 8h').default('1h'),
});

export type CsshctlSettings = z.output<typeof csshctlSchema>;
export default defineNamespace('csshctl', csshctlSchema, 'SSH certificates: the access service and your PKI certificate');
