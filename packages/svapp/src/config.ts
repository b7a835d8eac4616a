import {dirname, resolve} from 'node:path';
import {loadYamlFile} from '@bcl/spec-loader';
import {z} from 'zod';
import {PROTOCOL} from './api.js';

/** svapp's configuration file (`svapp serve --config <file>`); paths are relative to it. */
const path = z.string().min(1, 'expected a file path');
const pods = z.strictObject({namespace: z.string().min(1), podLabels: z.record(z.string().min(1), z.string()).default({})});
const secret = z.strictObject({
  /** A file holding the value (mode 0600; a Kubernetes Secret mounted as a file). */
  file: path.optional(),
  /** An environment variable holding it. */
  env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name').optional(),
}).refine((s) => Boolean(s.file) !== Boolean(s.env), 'expected exactly one of file or env');

export const svappConfigSchema = z.strictObject({
  /** host:port to listen on (port 0: any free port, printed at start). */
  listen: z.string().regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected host:port, e.g. 0.0.0.0:8443 or 127.0.0.1:0').default('127.0.0.1:8443'),
  tls: z.strictObject({
    /** svapp's own certificate chain and key (PEM). */
    cert: path,
    key: path,
    /** The PKI CA certificate(s) that issue people's and CI's client certificates. */
    clientCa: path,
    /** The PKI's CRL file(s); reloaded when they change. */
    crl: z.union([path, z.array(path).min(1)]).optional(),
  }),
  database: z.strictObject({
    /** postgres://svapp_app:...@host/svapp: the restricted role svapp runs as. */
    url: secret,
    /** The owner's connection, for migrations and grants at start (optional: without it, `url` migrates). */
    migrateUrl: secret.optional(),
  }),
  /** The deploy policy (docs/svapp/deploy-policy.md); re-read within a second of a change. */
  policy: path,
  /** The service catalog: a directory of service specs (`<name>.yaml` or `<name>/service.yaml`), the source of each service's team and namespaces. */
  catalog: path,
  /** The clusters svapp deploys to, with svapp's own credentials (a ServiceAccount's kubeconfig per cluster). */
  clusters: z
    .record(
      z.string().min(1),
      z.strictObject({
        /** svapp's kubeconfig for this cluster; absent: the in-cluster ServiceAccount (svapp runs in this cluster). */
        kubeconfig: path.optional(),
        /** The kubeconfig context (default: its current context). */
        context: z.string().min(1).optional(),
        namespace: z.string().min(1).optional(),
        production: z.boolean().optional(),
        zones: z.boolean().optional(),
        ingressController: pods.optional(),
        prometheus: pods.optional(),
      }),
    )
    .default({}),
  /** Jenkins servers svapp triggers builds on, with svapp's own API tokens. */
  jenkins: z.record(z.string().min(1), z.strictObject({url: z.url(), user: z.string().min(1), token: secret})).default({}),
  clients: z
    .strictObject({
      /** Clients below this version are refused (client_too_old) with the upgrade command; nothing is done. */
      minVersion: z.string().regex(/^\d+\.\d+\.\d+(-[\w.]+)?$/, 'expected a version such as 1.4.0').optional(),
      /** Deprecation notices pushed to matching clients (headers and a warnings field). */
      deprecations: z
        .array(
          z.strictObject({
            clientBelow: z.string().regex(/^\d+\.\d+\.\d+(-[\w.]+)?$/, 'expected a version such as 1.4.0').optional(),
            protocolBelow: z.number().int().min(1).optional(),
            sunset: z.iso.date().or(z.iso.datetime()).optional(),
            since: z.iso.date().or(z.iso.datetime()).optional(),
            message: z.string().min(1),
          }),
        )
        .default([]),
    })
    .default({deprecations: []}),
  /** The highest protocol served (default: this build's); pin it lower while older replicas still run. */
  protocol: z.strictObject({current: z.number().int().min(PROTOCOL.min).max(PROTOCOL.current)}).default({current: PROTOCOL.current}),
  /** This replica's name in leases, events and logs (default: $POD_NAME, else the host name). */
  replica: z.string().regex(/^[\w.-]{1,63}$/, 'letters, digits, ".", "_" and "-"').optional(),
  operations: z
    .strictObject({
      /** A replica that stops renewing an operation's lease for this long loses it; another takes the operation over. */
      leaseSeconds: z.number().min(2).max(300).default(10),
      /** How often every replica looks for operations to take over. */
      sweepSeconds: z.number().min(0.2).max(60).default(2),
      /** Runs of one operation (the first and takeovers) before it is marked failed. */
      maxAttempts: z.number().int().min(1).max(10).default(3),
    })
    .default({leaseSeconds: 10, sweepSeconds: 2, maxAttempts: 3}),
});

export type SecretSource = {file?: string | undefined; env?: string | undefined};
export type SvappConfig = z.output<typeof svappConfigSchema> & {file: string; listenHost: string; listenPort: number; tls: {cert: string; key: string; clientCa: string; crl: string[]}};

/** Reads and validates the file (every problem as `file:line:column: key: message`); paths become absolute. */
export function loadSvappConfig(file: string): SvappConfig {
  const raw = loadYamlFile(svappConfigSchema, file);
  const base = dirname(resolve(file));
  const abs = (p: string) => resolve(base, p);
  const absSecret = (s: SecretSource | undefined) => (s?.file ? {...s, file: abs(s.file)} : s);
  const at = raw.listen.lastIndexOf(':');
  return {
    ...raw,
    file: resolve(file),
    listenHost: raw.listen.slice(0, at).replace(/^\[|\]$/g, ''),
    listenPort: Number(raw.listen.slice(at + 1)),
    tls: {
      cert: abs(raw.tls.cert),
      key: abs(raw.tls.key),
      clientCa: abs(raw.tls.clientCa),
      crl: (raw.tls.crl === undefined ? [] : Array.isArray(raw.tls.crl) ? raw.tls.crl : [raw.tls.crl]).map(abs),
    },
    database: {url: absSecret(raw.database.url)!, ...(raw.database.migrateUrl ? {migrateUrl: absSecret(raw.database.migrateUrl)!} : {})},
    policy: abs(raw.policy),
    catalog: abs(raw.catalog),
    clusters: Object.fromEntries(Object.entries(raw.clusters).map(([name, c]) => [name, {...c, ...(c.kubeconfig ? {kubeconfig: abs(c.kubeconfig)} : {})}])),
    jenkins: Object.fromEntries(Object.entries(raw.jenkins).map(([name, j]) => [name, {...j, token: absSecret(j.token)!}])),
  };
}
