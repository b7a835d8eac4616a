import {defineNamespace, projectKey, trustedKey} from '@bcl/core';
import {z} from 'zod';

const secretRef = {
  /** Name of an environment variable holding the token. */
  tokenEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name').optional(),
  /** A file (mode 0600) holding the token. */
  tokenFile: z.string().min(1).optional(),
};

/** The `svctl` namespace: environments and the services svctl talks to. */
export const svctlSchema = z.strictObject({
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
      }),
    )
    .default({}),
  /** Jenkins servers by name. */
  jenkins: trustedKey(z.record(z.string().min(1), z.strictObject({url: z.url(), user: z.string().min(1), ...secretRef})).default({})),
  /** Grafana, for `svctl dashboard --push`. */
  grafana: trustedKey(z.strictObject({url: z.url(), ...secretRef}).optional()),
});

export type SvctlSettings = z.output<typeof svctlSchema>;
export default defineNamespace('svctl', svctlSchema, 'services: clusters per environment, Jenkins, Grafana');
