import type {Runtime} from '@bcl/deploy-core/spec/schema';

/** Default port per runtime, as its usual frameworks listen. */
export const DEFAULT_PORTS: Record<Runtime, number> = {node: 3000, go: 8080, python: 8000, java: 8080, static: 8080};

/**
 * The text of a new service.yaml (for `svctl init` and examples): the required keys, and the
 * common optional ones as commented examples, so the file documents itself.
 */
export function scaffoldSpecText(input: {name: string; team: string; runtime: Runtime; image?: string; port?: number}): string {
  const image = input.image ?? `registry.example.com/${input.team}/${input.name}`;
  const port = input.port ?? DEFAULT_PORTS[input.runtime];
  return `# The service spec: manifests, deploys, pipelines, dashboards and alerts come from this file.
# Reference: docs/svctl/service-spec.md. Check it with \`svctl validate\`.
name: ${input.name}
team: ${input.team}
image: ${image}
runtime: ${input.runtime}
port: ${port}
replicas: 2              # or {min: 2, max: 6} for autoscaling
probes:
  readiness: /ready
  liveness: /healthz
metrics:
  path: /metrics
# env:
#   LOG_LEVEL: info
# secrets:
#   DATABASE_PASSWORD: {secret: ${input.name}-db, key: password}
# routes:
#   - host: ${input.name}.example.com
slo:
  availability: 99.9     # percent of non-5xx requests
  latencyThresholdMs: 300
environments:
  staging:
    replicas: 2          # two, so staging rehearses what prod does (spread, disruption budget)
  prod:
    replicas: {min: 2, max: 6}
`;
}
