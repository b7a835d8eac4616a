import {dirname, resolve} from 'node:path';
import * as z from 'zod';
import {formatDuration, parseDuration} from './duration.js';
import {MAX_TTL_SECONDS} from './rules.js';
import {loadYamlFile} from './yaml-file.js';

/** The service's own configuration file (`cssh-authz serve --config <file>`). Paths are relative to it. */
const path = z.string().min(1, 'expected a file path');
const duration = z.string().refine((d) => {
  const s = parseDuration(d);
  return s !== undefined && s > 0 && s <= MAX_TTL_SECONDS;
}, `expected a duration such as 30m, 8h or 1d (at most ${formatDuration(MAX_TTL_SECONDS)})`);

export const serviceConfigSchema = z.strictObject({
  /** host:port to listen on (port 0: any free port, printed at start). */
  listen: z
    .string()
    .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected host:port, e.g. 0.0.0.0:8443 or 127.0.0.1:0')
    .default('127.0.0.1:8443'),
  tls: z.strictObject({
    /** The service's own certificate chain (PEM) and key. */
    cert: path,
    key: path,
    /** The PKI CA certificate(s) (PEM) that issue engineers' client certificates. */
    clientCa: path,
    /**
     * The PKI's CRL file(s) (PEM, possibly several blocks, or DER); reloaded when they change.
     * Every CA of a chain needs its CRL: with an intermediate, list the root's and the intermediate's.
     */
    crl: z.union([path, z.array(path).min(1)]).optional(),
  }),
  ca: z.strictObject({
    /** The SSH user CA private key: PKCS#8 PEM (optionally encrypted) or an unencrypted OpenSSH key. */
    key: path,
    /** A file holding the passphrase of an encrypted PKCS#8 key. */
    passphraseFile: path.optional(),
    /** How long `cssh-authz ca rotate` keeps the previous key trusted (at least the longest certificate lifetime). */
    rotationOverlap: duration.default('8h'),
  }),
  /**
   * 32 random bytes, base64, in a 0600 file (`cssh-authz secrets-key --out`): seals TOTP secrets
   * and rotated CA keys in the state. Needed for TOTP and for `ca rotate`.
   */
  secretsKey: path.optional(),
  mfa: z
    .strictObject({
      /** The issuer an authenticator app shows next to the account. */
      issuer: z.string().min(1).max(64).regex(/^[^:]+$/, 'expected a name without ":"').default('cssh-authz'),
      /** Wrong codes within failureWindow after which every code is refused until the window has passed. */
      maxFailures: z.number().int().min(1).max(100).default(5),
      failureWindow: duration.default('15m'),
    })
    .default({issuer: 'cssh-authz', maxFailures: 5, failureWindow: '15m'}),
  /** The access rules (YAML); reloaded on change and on SIGHUP. */
  rules: path,
  /** Where issued certificates and revocations are remembered. */
  stateDir: path,
  /** The audit log: JSON lines, appended to, never rewritten. */
  auditLog: path,
  certificates: z
    .strictObject({
      /** Lifetime when the request names none. */
      defaultTtl: duration.default('8h'),
      /** Lifetime limit of grants that name no maxTtl. */
      maxTtl: duration.default('8h'),
    })
    .default({defaultTtl: '8h', maxTtl: '8h'}),
  /** Who may query GET /v1/principals: anyone (hosts without a PKI certificate), or PKI clients only. */
  principalsEndpoint: z.enum(['public', 'client-certificate']).default('public'),
});

export type ServiceConfig = Omit<z.output<typeof serviceConfigSchema>, 'tls'> & {
  file: string;
  listenHost: string;
  listenPort: number;
  /** Absolute paths; `crl` always a list (empty: revocation not checked). */
  tls: {cert: string; key: string; clientCa: string; crl: string[]};
};

export function loadServiceConfig(file: string): ServiceConfig {
  const raw = loadYamlFile(file, serviceConfigSchema);
  const base = dirname(resolve(file));
  const abs = (p: string) => resolve(base, p);
  const at = raw.listen.lastIndexOf(':');
  return {
    ...raw,
    file: resolve(file),
    tls: {
      cert: abs(raw.tls.cert),
      key: abs(raw.tls.key),
      clientCa: abs(raw.tls.clientCa),
      crl: (raw.tls.crl === undefined ? [] : Array.isArray(raw.tls.crl) ? raw.tls.crl : [raw.tls.crl]).map(abs),
    },
    ca: {key: abs(raw.ca.key), ...(raw.ca.passphraseFile ? {passphraseFile: abs(raw.ca.passphraseFile)} : {}), rotationOverlap: raw.ca.rotationOverlap},
    ...(raw.secretsKey ? {secretsKey: abs(raw.secretsKey)} : {}),
    rules: abs(raw.rules),
    stateDir: abs(raw.stateDir),
    auditLog: abs(raw.auditLog),
    listenHost: raw.listen.slice(0, at).replace(/^\[|\]$/g, ''),
    listenPort: Number(raw.listen.slice(at + 1)),
  };
}
