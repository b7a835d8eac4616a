import {dirname, resolve} from 'node:path';
import {DURATION_EXAMPLES, parseDuration} from '@bcl/cssh-authz/api';
import {loadYamlFile} from '@bcl/cssh-authz/yaml-file';
import * as z from 'zod';
import {DEFAULT_STATE_DIR} from './status.js';

/** cssh-daemon's configuration file (`cssh-daemon run --config <file>`). Paths are relative to it. */
const path = z.string().min(1, 'expected a file path');
const duration = (min: number) => z.string().refine((d) => (parseDuration(d) ?? 0) >= min, `expected ${DURATION_EXAMPLES} (at least ${min}s)`);

export const daemonConfigSchema = z
  .strictObject({
    /** The cssh-authz base URL. */
    server: z.url({protocol: /^https$/, error: 'expected the https:// URL of cssh-authz'}),
    /** PEM bundle that signs cssh-authz's TLS certificate (default: the system roots). */
    serverCa: path.optional(),
    /** This host's name in the access rules, and in its certificate. */
    hostname: z.string().regex(/^[A-Za-z0-9_.:-]{1,253}$/, 'expected a hostname'),
    /** The host's PKI certificate (clientAuth, the hostname as a DNS name) and key: it asks for the accounts of this host. */
    identity: z.strictObject({cert: path, key: path}).optional(),
    files: z
      .strictObject({
        /** sshd's RevokedKeys. */
        krl: path.default('/etc/ssh/cssh_revoked.krl'),
        /** sshd's TrustedUserCAKeys. */
        trustedCaKeys: path.default('/etc/ssh/cssh_user_ca.pub'),
      })
      .default({krl: '/etc/ssh/cssh_revoked.krl', trustedCaKeys: '/etc/ssh/cssh_user_ca.pub'}),
    /** What it remembers (managed accounts, ETag, status.json). */
    stateDir: path.default(DEFAULT_STATE_DIR),
    /** How often it asks cssh-authz. */
    interval: duration(1).default('30s'),
    /** After how long without a successful refresh `status` reports the files stale. */
    staleAfter: duration(1).default('5m'),
    /** How long one request may take. */
    requestTimeout: duration(1).default('10s'),
    accounts: z
      .strictObject({
        /** Create, lock and unlock the unix accounts of the logins granted on this host (needs identity). */
        manage: z.boolean().default(true),
        /** The shell of a new account when its grant names none. */
        defaultShell: z.string().regex(/^\/\S+$/, 'expected an absolute path').default('/bin/bash'),
      })
      .default({manage: true, defaultShell: '/bin/bash'}),
  })
  .superRefine((c, ctx) => {
    if (c.accounts.manage && !c.identity) {
      ctx.addIssue({code: 'custom', path: ['accounts', 'manage'], message: "managing accounts needs the host's identity (identity: {cert, key}); set accounts.manage: false to keep only the KRL and CA keys"});
    }
  });

export type DaemonConfig = Omit<z.output<typeof daemonConfigSchema>, 'interval' | 'staleAfter' | 'requestTimeout'> & {
  file: string;
  intervalSeconds: number;
  staleAfterSeconds: number;
  requestTimeoutSeconds: number;
};

export function loadDaemonConfig(file: string): DaemonConfig {
  const raw = loadYamlFile(file, daemonConfigSchema);
  const abs = (p: string) => resolve(dirname(resolve(file)), p);
  const {interval, staleAfter, requestTimeout, ...rest} = raw;
  return {
    ...rest,
    file: resolve(file),
    server: raw.server.replace(/\/+$/, ''),
    ...(raw.serverCa ? {serverCa: abs(raw.serverCa)} : {}),
    ...(raw.identity ? {identity: {cert: abs(raw.identity.cert), key: abs(raw.identity.key)}} : {}),
    files: {krl: abs(raw.files.krl), trustedCaKeys: abs(raw.files.trustedCaKeys)},
    stateDir: abs(raw.stateDir),
    hostname: raw.hostname.toLowerCase(),
    intervalSeconds: parseDuration(interval)!,
    staleAfterSeconds: parseDuration(staleAfter)!,
    requestTimeoutSeconds: parseDuration(requestTimeout)!,
  };
}
