import {conflict, denied, invalidInput, unavailable} from '@bcl/core';

/** Reads and writes passwords held in Kubernetes Secrets. */
export interface SecretStore {
  read(namespace: string, name: string, key: string): Promise<string>;
  /** Creates the Secret, or replaces its data when it exists (keeping its other metadata). */
  write(namespace: string, name: string, data: Record<string, string>, labels?: Record<string, string>): Promise<{created: boolean}>;
}

/** `<namespace>/<name>` as given to --to-secret. */
export function parseSecretRef(ref: string, flag = '--to-secret'): {namespace: string; name: string} {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/.exec(ref);
  if (!m) throw invalidInput('dbctl.invalid_secret_ref', `${flag}: expected <namespace>/<name> (lowercase DNS names), got "${ref}"`, {details: {flag}});
  return {namespace: m[1]!, name: m[3]!};
}

/**
 * A SecretStore on the cluster of the current kubeconfig context (KUBECONFIG honoured). The
 * Kubernetes client is imported here, on use: it costs about 300 ms to load.
 */
export async function kubernetesSecrets(context?: string): Promise<SecretStore> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  if (context) kc.setCurrentContext(context);
  const api = kc.makeApiClient(k8s.CoreV1Api);
  const where = kc.getCurrentCluster()?.server ?? 'the cluster';
  const mapError = (error: unknown, what: string): Error => {
    const code = (error as {code?: number}).code;
    if (code === 401 || code === 403) return denied('dbctl.secret_denied', `${what}: not allowed by ${where} (HTTP ${code})`, {hint: 'Check your kubeconfig credentials and RBAC for Secrets.'});
    if (code === 404) return invalidInput('dbctl.secret_not_found', `${what}: not found on ${where}`);
    if (typeof code === 'number') return conflict('dbctl.secret_failed', `${what}: ${where} answered HTTP ${code}`);
    return unavailable('dbctl.kubernetes_unreachable', `${what}: cannot reach ${where}: ${(error as Error).message}`, {hint: 'Check KUBECONFIG and that the cluster is up.'});
  };
  return {
    async read(namespace, name, key) {
      let secret;
      try {
        secret = await api.readNamespacedSecret({name, namespace});
      } catch (error) {
        throw mapError(error, `reading Secret ${namespace}/${name}`);
      }
      const encoded = secret.data?.[key];
      if (encoded === undefined) throw invalidInput('dbctl.secret_key_missing', `Secret ${namespace}/${name} has no key "${key}"`, {details: {namespace, name, key}});
      return Buffer.from(encoded, 'base64').toString('utf8');
    },
    async write(namespace, name, data, labels = {}) {
      const body = {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'Opaque',
        metadata: {name, namespace, labels: {'app.kubernetes.io/managed-by': 'dbctl', ...labels}},
        data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')])),
      };
      try {
        await api.createNamespacedSecret({namespace, body});
        return {created: true};
      } catch (error) {
        if ((error as {code?: number}).code !== 409) throw mapError(error, `creating Secret ${namespace}/${name}`);
      }
      try {
        const existing = await api.readNamespacedSecret({name, namespace});
        existing.data = body.data;
        existing.metadata = {...existing.metadata, labels: {...existing.metadata?.labels, ...body.metadata.labels}};
        await api.replaceNamespacedSecret({name, namespace, body: existing});
        return {created: false};
      } catch (error) {
        throw mapError(error, `replacing Secret ${namespace}/${name}`);
      }
    },
  };
}
