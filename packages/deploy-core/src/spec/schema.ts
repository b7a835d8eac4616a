import {builtOnFirstUse} from '@bcl/spec-loader/first-use';
import * as z from 'zod';

/**
 * The `service.yaml` schema: a service describes itself once; manifests, deploys, pipelines,
 * dashboards and alerts are all derived from it. Every object is strict (an unknown key is an
 * error naming its path) and every optional value has a documented default
 * (docs/svctl/service-spec.md). Keep this module light: `validate` and `--help` load it.
 */

export const RUNTIMES = ['node', 'go', 'python', 'java', 'static'] as const;
export type Runtime = (typeof RUNTIMES)[number];

/** A DNS-1035 label: what a Service name must be (lower case, starts with a letter). */
const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** A Kubernetes resource quantity: "100m", "0.5", "256Mi", "1G". */
const QUANTITY = /^([0-9]+(\.[0-9]+)?|\.[0-9]+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
/** An environment variable name. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** An image repository without tag or digest: host[:port]/path, lower case path components. */
const IMAGE_REPOSITORY = /^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
/** A hostname (wildcard first label allowed, as Ingress allows). */
const HOSTNAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const DEFAULT_RESOURCES = {
  requests: {cpu: '100m', memory: '128Mi', ephemeralStorage: '64Mi'},
  limits: {cpu: '500m', memory: '256Mi', ephemeralStorage: '1Gi'},
} as const;

/**
 * The schemas, built on first use: building them costs more than validating a spec, and a
 * command whose spec was validated before by the same build does not need them (a memo, see
 * loadSpec). Each export is a z.lazy of its schema here.
 */
function build() {
  const serviceName = z
    .string()
    .max(40, 'at most 40 characters (it prefixes the names of the generated objects)')
    .regex(DNS_LABEL, 'lower-case letters, digits and "-", starting with a letter (a DNS label)');

  const environmentName = z
    .string()
    .max(20, 'at most 20 characters')
    .regex(DNS_LABEL, 'lower-case letters, digits and "-", starting with a letter');

  const quantity = (what: string) => z.string().regex(QUANTITY, `a Kubernetes quantity for ${what}, e.g. ${what === 'cpu' ? '"250m" or "1"' : '"256Mi" or "1Gi"'}`);
  /** cpu, memory, and ephemeralStorage (the container's logs and its writable directories, such as /tmp). */
  const computeResources = () => z.strictObject({cpu: quantity('cpu').optional(), memory: quantity('memory').optional(), ephemeralStorage: quantity('ephemeralStorage').optional()});

  /** requests/limits as in a Pod; missing values take the defaults. */
  const resourcesSchema = z.strictObject({
    requests: computeResources().optional(),
    limits: computeResources().optional(),
  });

  /** A fixed replica count, or min/max for a HorizontalPodAutoscaler. */
  const autoscalingSchema = z
    .strictObject({
      min: z.int().min(1, 'at least 1'),
      max: z.int().min(1, 'at least 1'),
      /** Target average CPU utilisation, percent of the request. */
      cpuUtilization: z.int().min(1).max(100).default(70),
    })
    .refine((a) => a.max >= a.min, {message: 'max must be at least min', path: ['max']});
  const replicasSchema = z.union([z.int().min(0, 'at least 0'), autoscalingSchema], {
    error: 'a number of replicas, or {min, max} for autoscaling',
  });

  const envValue = z.union([z.string(), z.number(), z.boolean()], {error: 'a string, number or boolean'}).transform(String);
  const envSchema = z.record(z.string().regex(ENV_NAME, 'an environment variable name'), envValue);

  /** An environment variable taken from a key of a Kubernetes Secret (never the value itself). */
  const secretRefSchema = z.strictObject({
    secret: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'the name of a Kubernetes Secret'),
    key: z.string().regex(/^[-._a-zA-Z0-9]+$/, 'a key of the Secret'),
    /** When true, the pod starts even if the Secret or key is missing. */
    optional: z.boolean().default(false),
  });
  const secretsSchema = z.record(z.string().regex(ENV_NAME, 'an environment variable name'), secretRefSchema);

  const httpPath = z.string().regex(/^\/[^\s]*$/, 'an HTTP path starting with "/"');

  const probeSchema = z.union(
    [
      httpPath.transform((path) => ({path, initialDelaySeconds: 0, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 1})),
      z.strictObject({
        path: httpPath,
        initialDelaySeconds: z.int().min(0).default(0),
        periodSeconds: z.int().min(1).default(10),
        failureThreshold: z.int().min(1).default(3),
        timeoutSeconds: z.int().min(1).default(1),
      }),
    ],
    {error: 'an HTTP path such as /healthz, or {path, initialDelaySeconds, periodSeconds, failureThreshold, timeoutSeconds}'},
  );

  const probesSchema = z
    .strictObject({
      /** Receives traffic only while this answers 2xx/3xx. Default /ready. */
      readiness: probeSchema.prefault('/ready'),
      /** Restarted when this fails failureThreshold times. Default /healthz. */
      liveness: probeSchema.prefault('/healthz'),
      /**
       * How long a container may take to answer its readiness path for the first time; liveness
       * and readiness probes start only then, so a slow starter is not restarted while it starts.
       */
      startupSeconds: z.int().min(5, 'at least 5').max(3600, 'at most 3600 (an hour)').default(60),
    })
    .prefault({});

  const metricsSchema = z
    .strictObject({
      /** Whether the service exposes Prometheus metrics (dashboards, alerts, scrape annotations). */
      enabled: z.boolean().default(true),
      path: httpPath.default('/metrics'),
      /** Defaults to the service port. */
      port: z.int().min(1).max(65535).optional(),
    })
    .prefault({});

  const routeSchema = z.strictObject({
    host: z.string().regex(HOSTNAME, 'a host name such as hello.example.com'),
    path: httpPath.default('/'),
    /** Name of the Secret holding the TLS certificate for this host; no TLS when unset. */
    tlsSecret: z.string().min(1).optional(),
  });
  const routesSchema = z.array(routeSchema);

  const sloSchema = z
    .strictObject({
      /** Availability objective in percent of successful (non-5xx) requests. */
      availability: z.number().gt(0).lt(100, 'below 100 (a 100% objective leaves no error budget)').default(99.9),
      /** Requests slower than this count against the latency objective. */
      latencyThresholdMs: z.int().min(1).default(300),
      /** Percent of requests that must be faster than latencyThresholdMs. */
      latencyObjective: z.number().gt(0).lt(100).default(99),
      /** The SLO window in days. */
      windowDays: z.int().min(1).max(90).default(30),
    })
    .prefault({});

  const rolloutSchema = z
    .strictObject({
      /** Kubernetes marks the rollout failed (Progressing=False) after this long without progress. */
      progressDeadlineSeconds: z.int().min(10).default(120),
      maxSurge: z.union([z.int().min(0), z.string().regex(/^\d+%$/)]).default('25%'),
      maxUnavailable: z.union([z.int().min(0), z.string().regex(/^\d+%$/)]).default(0),
    })
    .prefault({});

  /** Who may open connections to the service's pods (its NetworkPolicy); everything else is denied. */
  const callerSchema = z
    .strictObject({
      /** A svctl service (the pods labelled app.kubernetes.io/name=<service>). */
      service: serviceName.optional(),
      /** A namespace: with service, that service there; alone, every pod of the namespace. */
      namespace: z.string().regex(DNS_LABEL, 'a namespace name (a DNS label)').optional(),
    })
    .refine((c) => c.service !== undefined || c.namespace !== undefined, {message: 'name a service, a namespace, or both'});
  const networkSchema = z
    .strictObject({
      /** Default: every pod of the service's own namespace. An empty list: no caller but the ingress controller and Prometheus. */
      callers: z.array(callerSchema).optional(),
    })
    .prefault({});

  /** Image tags that move (a rebuild changes what they name): refused in production, warned elsewhere. */
  const imagePolicySchema = z
    .strictObject({
      /** Tags, or patterns with "*", that name different images over time. */
      mutableTags: z.array(z.string().regex(/^[A-Za-z0-9_.*-]{1,128}$/, 'an image tag, or a pattern with "*"')).default(['latest']),
    })
    .prefault({});

  const gitSchema = z
    .strictObject({
      /** The repository URL Jenkins checks out; default: the `origin` remote of the spec's checkout. */
      url: z.string().min(1).optional(),
      /** The branch builds default to. */
      branch: z.string().min(1).default('main'),
    })
    .prefault({});

  /** How the service is built: its Jenkins job (svctl pipeline sync, svctl build). */
  const buildSchema = z
    .strictObject({
      /** The Jenkins server, an entry of svctl.jenkins; default: the only one configured. */
      jenkins: z.string().min(1).optional(),
      /** The job's name; default: the service name. */
      job: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-"').optional(),
      /** Jenkins credentials id for checking out the repository. */
      credentialsId: z.string().min(1).optional(),
      /** Path of the Jenkinsfile in the repository. */
      jenkinsfile: z.string().min(1).default('Jenkinsfile'),
    })
    .prefault({});

  /** What one environment may change. Maps are merged key by key; lists and replicas are replaced. */
  const environmentOverrideSchema = z.strictObject({
    /** An entry of `svctl.clusters` in the BCL configuration (default: the environment's name). */
    cluster: z.string().min(1).optional(),
    namespace: z.string().regex(DNS_LABEL, 'a namespace name (a DNS label)').optional(),
    replicas: replicasSchema.optional(),
    resources: resourcesSchema.optional(),
    env: envSchema.optional(),
    secrets: secretsSchema.optional(),
    routes: routesSchema.optional(),
    /** A production environment: mutable image tags are refused there (not only warned about). */
    production: z.boolean().optional(),
  });

  const objectName = z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'the name of a Kubernetes object').max(253);
  /** A ConfigMap or Secret mounted read-only as files (a configuration the service re-reads, TLS material). */
  const filesSchema = z
    .record(z.string(), z.union([z.strictObject({configMap: objectName}), z.strictObject({secret: objectName})], {error: 'expected {configMap: <name>} or {secret: <name>}'}))
    .superRefine((files, ctx) => {
      for (const path of Object.keys(files)) {
        if (!/^\/[A-Za-z0-9._/-]*$/.test(path)) ctx.addIssue({code: 'custom', path: [path], message: 'an absolute path in the container, e.g. /etc/hello'});
        else if (path.split('/').includes('..') || ['/', '/tmp'].includes(path.replace(/\/+$/, '') || '/')) ctx.addIssue({code: 'custom', path: [path], message: 'a directory of its own (not /, /tmp or a path with ..)'});
      }
    });

  const serviceSpecSchema = z.strictObject({
    name: serviceName,
    /** The owning team: a label on every object, the Grafana folder, the alert routing. */
    team: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'lower-case letters, digits and "-"').max(63),
    description: z.string().optional(),
    /** The higher-level application this service is part of (app.kubernetes.io/part-of); default: name. */
    partOf: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).max(63).optional(),
    /** The image repository without tag; the tag is given at deploy time (default: the git commit). */
    image: z.string().regex(IMAGE_REPOSITORY, 'an image repository without tag or digest, e.g. registry.example.com/team/hello'),
    runtime: z.enum(RUNTIMES, {error: `one of ${RUNTIMES.join(', ')}`}),
    /** The port the container listens on (HTTP). */
    port: z.int().min(1).max(65535).default(8080),
    /** `https`: the container terminates TLS itself on its port (a mutual-TLS server): probes use HTTPS, and no Ingress may front it. */
    scheme: z.enum(['http', 'https'], {error: 'http, or https when the container terminates TLS itself'}).default('http'),
    /** Default namespace; an environment or the cluster configuration may override it; default: team. */
    namespace: z.string().regex(DNS_LABEL, 'a namespace name (a DNS label)').optional(),
    env: envSchema.default({}),
    secrets: secretsSchema.default({}),
    /** Directories of files from ConfigMaps and Secrets (read-only; kept current by the kubelet). */
    files: filesSchema.default({}),
    resources: resourcesSchema.default({}),
    replicas: replicasSchema.default(2),
    probes: probesSchema,
    metrics: metricsSchema,
    routes: routesSchema.default([]),
    network: networkSchema,
    imagePolicy: imagePolicySchema,
    slo: sloSchema,
    rollout: rolloutSchema,
    git: gitSchema,
    build: buildSchema,
    environments: z.record(environmentName, environmentOverrideSchema).default({}),
  });

  return {serviceName, environmentName, resourcesSchema, autoscalingSchema, replicasSchema, envSchema, secretRefSchema, secretsSchema, probeSchema, probesSchema, metricsSchema, routeSchema, routesSchema, sloSchema, rolloutSchema, callerSchema, networkSchema, imagePolicySchema, gitSchema, buildSchema, environmentOverrideSchema, filesSchema, serviceSpecSchema};
}

const schemas = builtOnFirstUse(build);

export const serviceName = z.lazy(() => schemas().serviceName);
export const environmentName = z.lazy(() => schemas().environmentName);
export const resourcesSchema = z.lazy(() => schemas().resourcesSchema);
export const autoscalingSchema = z.lazy(() => schemas().autoscalingSchema);
export const replicasSchema = z.lazy(() => schemas().replicasSchema);
export const envSchema = z.lazy(() => schemas().envSchema);
export const secretRefSchema = z.lazy(() => schemas().secretRefSchema);
export const secretsSchema = z.lazy(() => schemas().secretsSchema);
export const probeSchema = z.lazy(() => schemas().probeSchema);
export const probesSchema = z.lazy(() => schemas().probesSchema);
export const metricsSchema = z.lazy(() => schemas().metricsSchema);
export const routeSchema = z.lazy(() => schemas().routeSchema);
export const routesSchema = z.lazy(() => schemas().routesSchema);
export const sloSchema = z.lazy(() => schemas().sloSchema);
export const rolloutSchema = z.lazy(() => schemas().rolloutSchema);
export const callerSchema = z.lazy(() => schemas().callerSchema);
export const networkSchema = z.lazy(() => schemas().networkSchema);
export const imagePolicySchema = z.lazy(() => schemas().imagePolicySchema);
export const gitSchema = z.lazy(() => schemas().gitSchema);
export const buildSchema = z.lazy(() => schemas().buildSchema);
export const environmentOverrideSchema = z.lazy(() => schemas().environmentOverrideSchema);
export const filesSchema = z.lazy(() => schemas().filesSchema);
export const serviceSpecSchema = z.lazy(() => schemas().serviceSpecSchema);

export type Probe = z.output<typeof probeSchema>;
export type EnvironmentOverride = z.output<typeof environmentOverrideSchema>;
/** A validated service spec with every default filled in. */
export type ServiceSpec = z.output<typeof serviceSpecSchema>;
/** What a `service.yaml` may contain (defaults optional). */
export type ServiceSpecInput = z.input<typeof serviceSpecSchema>;
export type Replicas = z.output<typeof replicasSchema>;
export type Autoscaling = z.output<typeof autoscalingSchema>;
export type Resources = z.output<typeof resourcesSchema>;
export type SecretRef = z.output<typeof secretRefSchema>;
export type Route = z.output<typeof routeSchema>;
export type Slo = z.output<typeof sloSchema>;
export type Metrics = z.output<typeof metricsSchema>;
export type BuildSettings = z.output<typeof buildSchema>;
export type Caller = z.output<typeof callerSchema>;

export function isAutoscaled(replicas: Replicas): replicas is Autoscaling {
  return typeof replicas === 'object';
}
