import {defineNamespace, projectKey, trustedKey} from '@bcl/core';
import * as z from 'zod';

// Built on first use (defineNamespace): most commands find nothing of svctl's configured.
const secretRef = () => ({
  /** Name of an environment variable holding the token. */
  tokenEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name').optional(),
  /** A file (mode 0600) holding the token. */
  tokenFile: z.string().min(1).optional(),
});

/** Pods of another namespace, for NetworkPolicy peers. */
const podsSchema = () =>
  z.strictObject({
    namespace: z.string().min(1),
    podLabels: z.record(z.string().min(1), z.string()).default({}),
  });

/** The `svctl` namespace: environments and the services svctl talks to. */
export const svctlSchema = () => z.strictObject({
  /** The environment used when --env is not given. */
  defaultEnv: projectKey(z.string().min(1).optional()),
  /** Environments: each maps to a kubeconfig context (KUBECONFIG is honoured). */
  clusters: z
    .record(
      z.string().min(1),
      z.strictObject({
        /** The kubeconfig context: which cluster and credentials (trusted). */
        context: trustedKey(z.string().min(1)),
        /** Default namespace for services deployed to this environment. */
        namespace: projectKey(z.string().min(1).optional()),
        /** A production cluster: mutable image tags are refused there. */
        production: trustedKey(z.boolean().optional()),
        /** Whether the nodes carry topology.kubernetes.io/zone: replicas are then spread over zones too. */
        zones: projectKey(z.boolean().optional()),
        /** The pods of the ingress controller, allowed to reach services with routes (NetworkPolicy). */
        ingressController: trustedKey(podsSchema().optional()),
        /** The Prometheus pods, allowed to reach the metrics port (NetworkPolicy). */
        prometheus: trustedKey(podsSchema().optional()),
      }),
    )
    .default({}),
  /** Jenkins servers by name. */
  jenkins: trustedKey(z.record(z.string().min(1), z.strictObject({url: z.url(), user: z.string().min(1), ...secretRef()})).default({})),
  /** Grafana, for `svctl dashboard --push`. */
  grafana: trustedKey(z.strictObject({url: z.url(), ...secretRef()}).optional()),
  /**
   * svapp, the svctl back end: with it, deploy, rollback, status, history, diff, build, builds,
   * ops and can-i go through svapp (svctl then needs no cluster credentials); without it, svctl
   * works directly against the clusters of svctl.clusters.
   */
  server: trustedKey(
    z
      .strictObject({
        /** svapp's base URL (https). */
        url: z.url({protocol: /^https$/, error: 'expected the https:// URL of svapp'}),
        /** PEM bundle that signs svapp's TLS certificate (default: the system roots). */
        ca: z.string().min(1).optional(),
        /**
         * The PKI client certificate to authenticate with: a serial (hex) or an email among those
         * pkictl fetched, or explicit files {cert, key}. Default: the valid client certificate of
         * pkictl.email (or any) that expires last.
         */
        certificate: z
          .union([z.string().min(1), z.strictObject({cert: z.string().min(1), key: z.string().min(1)})], {error: 'expected a certificate serial or email, or {cert: <file>, key: <file>}'})
          .optional(),
      })
      .optional(),
  ),
  /** How long svctl keeps reconnecting to an operation's event stream before it gives up (exit 5; the operation goes on). */
  reconnectSeconds: projectKey(z.number().min(1).max(3600).default(60)),
});

export type SvctlSettings = z.output<ReturnType<typeof svctlSchema>>;
export default defineNamespace('svctl', svctlSchema, 'services: clusters per environment, Jenkins, Grafana', {defaults: {clusters: {}, jenkins: {}, reconnectSeconds: 60}});
