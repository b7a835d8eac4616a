import {describe, expect, it} from 'vitest';
import {parseSpec, resolveEnvironment} from '../spec/index.js';
import {applySteps, inApplyOrder, renderService} from './index.js';

const spec = parseSpec(`name: hello
team: payments
image: registry.example.com/payments/hello
runtime: node
env: {B: "2", A: "1"}
secrets: {TOKEN: {secret: hello-api, key: token}}
routes: [{host: hello.example.com, tlsSecret: hello-tls}, {host: hello.example.com, path: /api}]
environments:
  prod:
    replicas: {min: 2, max: 6}
`);

describe('renderService', () => {
  it('renders the standard objects in apply order, each with the standard and team labels', () => {
    const r = renderService(resolveEnvironment(spec, 'staging', {staging: {context: 'c'}}), {imageTag: 'abc123'});
    expect(r.objects.map((o) => o.kind)).toEqual(['ServiceAccount', 'ConfigMap', 'Service', 'NetworkPolicy', 'PodDisruptionBudget', 'Deployment', 'Ingress']);
    for (const o of r.objects) {
      expect(o.metadata.labels).toEqual({
        'app.kubernetes.io/name': 'hello',
        'app.kubernetes.io/instance': 'hello',
        'app.kubernetes.io/part-of': 'hello',
        'app.kubernetes.io/managed-by': 'svctl',
        'app.kubernetes.io/version': 'abc123',
        team: 'payments',
        'svctl.bcl.io/environment': 'staging',
      });
      expect(o.metadata.namespace).toBe('payments');
    }
    expect(r.image).toBe('registry.example.com/payments/hello:abc123');
  });

  it('puts env in a ConfigMap, secrets as references, and rolls pods when env changes', () => {
    const staging = resolveEnvironment(spec, 'staging', {staging: {context: 'c'}});
    const r = renderService(staging, {imageTag: 't'});
    const deployment = r.objects.find((o) => o.kind === 'Deployment') as unknown as {spec: {template: {metadata: {annotations: Record<string, string>}; spec: {containers: {env: unknown[]; envFrom: unknown[]}[]}}}};
    expect(r.objects.find((o) => o.kind === 'ConfigMap')).toMatchObject({data: {A: '1', B: '2'}});
    expect(deployment.spec.template.spec.containers[0]!.env).toEqual([{name: 'TOKEN', valueFrom: {secretKeyRef: {name: 'hello-api', key: 'token'}}}]);
    const changed = renderService({...staging, env: {...staging.env, A: 'x'}}, {imageTag: 't'});
    const hash = (x: typeof r) => (x.objects.find((o) => o.kind === 'Deployment') as unknown as typeof deployment).spec.template.metadata.annotations['svctl.bcl.io/config-hash'];
    expect(hash(changed)).not.toBe(hash(r));
    // Deterministic: the same input renders the same objects.
    expect(renderService(staging, {imageTag: 't'})).toEqual(r);
  });

  it('mounts files from ConfigMaps and Secrets read-only (Secrets for the service\'s user only), and refuses / and /tmp', () => {
    const withFiles = parseSpec(`name: svapp\nteam: platform\nimage: registry.example.com/platform/svapp\nruntime: node\nfiles:\n  /etc/svapp: {configMap: svapp-config}\n  /etc/svapp/tls: {secret: svapp-tls}\n`);
    const r = renderService(resolveEnvironment(withFiles, 'staging', {staging: {context: 'c'}}), {imageTag: 't'});
    const pod = (r.objects.find((o) => o.kind === 'Deployment') as unknown as {spec: {template: {spec: {volumes: Record<string, unknown>[]; containers: {volumeMounts: Record<string, unknown>[]}[]}}}}).spec.template.spec;
    expect(pod.volumes.filter((v) => String(v.name).startsWith('files-'))).toEqual([
      {name: 'files-0', configMap: {name: 'svapp-config'}},
      {name: 'files-1', secret: {secretName: 'svapp-tls', defaultMode: 0o400}},
    ]);
    expect(pod.containers[0]!.volumeMounts.filter((m) => String(m.name).startsWith('files-'))).toEqual([
      {name: 'files-0', mountPath: '/etc/svapp', readOnly: true},
      {name: 'files-1', mountPath: '/etc/svapp/tls', readOnly: true},
    ]);
    expect(() => parseSpec(`name: x\nteam: t\nimage: r.example.com/t/x\nruntime: node\nfiles:\n  /tmp: {secret: s}\n`, 'x.yaml')).toThrow(/x\.yaml:6:\d+: files\["\/tmp"\]: a directory of its own/);
  });

  it('adds an autoscaler and leaves replicas to it when min/max are given', () => {
    const r = renderService(resolveEnvironment(spec, 'prod'), {imageTag: 't'});
    expect(r.objects.map((o) => o.kind)).toContain('HorizontalPodAutoscaler');
    expect(r.objects.find((o) => o.kind === 'HorizontalPodAutoscaler')).toMatchObject({spec: {minReplicas: 2, maxReplicas: 6}});
    expect((r.objects.find((o) => o.kind === 'Deployment') as unknown as {spec: object}).spec).not.toHaveProperty('replicas');
  });

  it('groups routes by host in one Ingress with TLS', () => {
    const r = renderService(resolveEnvironment(spec, 'prod'), {imageTag: 't'});
    expect(r.objects.find((o) => o.kind === 'Ingress')).toMatchObject({
      spec: {
        tls: [{hosts: ['hello.example.com'], secretName: 'hello-tls'}],
        rules: [{host: 'hello.example.com', http: {paths: [{path: '/'}, {path: '/api'}]}}],
      },
    });
    const none = renderService({...resolveEnvironment(spec, 'prod'), routes: []}, {imageTag: 't'});
    expect(none.objects.map((o) => o.kind)).not.toContain('Ingress');
  });

  const deploymentOf = (r: ReturnType<typeof renderService>) =>
    r.objects.find((o) => o.kind === 'Deployment') as unknown as {spec: {template: {spec: {topologySpreadConstraints?: {topologyKey: string; whenUnsatisfiable: string; matchLabelKeys: string[]}[]; volumes: {name: string; emptyDir: object}[]; containers: Record<string, any>[]}}}};

  it('runs every runtime with a read-only root filesystem and writable /tmp (and nginx cache for static)', () => {
    for (const runtime of ['node', 'go', 'python', 'java', 'static'] as const) {
      const r = renderService({...resolveEnvironment(spec, 'prod'), runtime}, {imageTag: 't'});
      const pod = deploymentOf(r).spec.template.spec;
      const container = pod.containers[0]!;
      expect(container.securityContext).toMatchObject({readOnlyRootFilesystem: true, runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, allowPrivilegeEscalation: false});
      const mounts = (container.volumeMounts as {name: string; mountPath: string}[]).map((m) => m.mountPath);
      expect(mounts).toEqual(runtime === 'static' ? ['/tmp', '/var/cache/nginx'] : ['/tmp']);
      expect(pod.volumes.map((v) => v.name).sort()).toEqual((container.volumeMounts as {name: string}[]).map((m) => m.name).sort());
      expect(container.resources).toMatchObject({requests: {'ephemeral-storage': '64Mi'}, limits: {'ephemeral-storage': '1Gi'}});
    }
  });

  it('derives a startup probe from the readiness path, with probes.startupSeconds as its budget', () => {
    const slow = parseSpec(`name: slow\nteam: t\nimage: r.example.com/t/slow\nruntime: java\nprobes: {readiness: /ready, startupSeconds: 180}\nrollout: {progressDeadlineSeconds: 300}\n`);
    const container = deploymentOf(renderService(resolveEnvironment(slow, 'x', {x: {context: 'c'}}), {imageTag: 't'})).spec.template.spec.containers[0]!;
    expect(container.startupProbe).toEqual({httpGet: {path: '/ready', port: 'http'}, periodSeconds: 5, failureThreshold: 36, timeoutSeconds: 1});
    expect(container.livenessProbe).toMatchObject({httpGet: {path: '/healthz'}});
  });

  it('spreads more than one replica, or an autoscaled Deployment, over nodes, and over zones when the cluster has them', () => {
    const one = renderService({...resolveEnvironment(spec, 'staging', {staging: {context: 'c'}}), replicas: 1}, {imageTag: 't'});
    expect(deploymentOf(one).spec.template.spec.topologySpreadConstraints).toBeUndefined();
    const two = deploymentOf(renderService(resolveEnvironment(spec, 'staging', {staging: {context: 'c'}}), {imageTag: 't'})).spec.template.spec.topologySpreadConstraints!;
    expect(two.map((c) => c.topologyKey)).toEqual(['kubernetes.io/hostname']);
    expect(two[0]).toMatchObject({maxSkew: 1, whenUnsatisfiable: 'ScheduleAnyway', matchLabelKeys: ['pod-template-hash'], labelSelector: {matchLabels: {'app.kubernetes.io/name': 'hello'}}});
    const zoned = deploymentOf(renderService(resolveEnvironment(spec, 'prod', {prod: {context: 'c', zones: true}}), {imageTag: 't'})).spec.template.spec.topologySpreadConstraints!;
    expect(zoned.map((c) => c.topologyKey)).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
  });

  it('lets in the same namespace by default, the ingress controller with routes, Prometheus on the metrics port, and nothing else', () => {
    const policyOf = (r: ReturnType<typeof renderService>) => r.objects.find((o) => o.kind === 'NetworkPolicy') as unknown as {spec: {podSelector: object; policyTypes: string[]; ingress: {from: object[]; ports: {port: string}[]}[]}};
    const p = policyOf(renderService(resolveEnvironment(spec, 'prod'), {imageTag: 't'}));
    expect(p.spec.podSelector).toEqual({matchLabels: {'app.kubernetes.io/name': 'hello', 'app.kubernetes.io/instance': 'hello'}});
    expect(p.spec.policyTypes).toEqual(['Ingress']);
    expect(p.spec.ingress).toEqual([
      {from: [{podSelector: {}}], ports: [{protocol: 'TCP', port: 'http'}]},
      {from: [{namespaceSelector: {matchLabels: {'kubernetes.io/metadata.name': 'ingress-nginx'}}, podSelector: {matchLabels: {'app.kubernetes.io/name': 'ingress-nginx'}}}], ports: [{protocol: 'TCP', port: 'http'}]},
      {from: [{namespaceSelector: {matchLabels: {'kubernetes.io/metadata.name': 'monitoring'}}, podSelector: {matchLabels: {'app.kubernetes.io/name': 'prometheus'}}}], ports: [{protocol: 'TCP', port: 'http'}]},
    ]);
    const named = parseSpec(`name: api\nteam: t\nimage: r.example.com/t/api\nruntime: go\nmetrics: {port: 9090}\nnetwork:\n  callers:\n    - service: web\n    - namespace: batch\n    - {namespace: shop, service: cart}\n`);
    const q = policyOf(renderService(resolveEnvironment(named, 'x', {x: {context: 'c', prometheus: {namespace: 'obs', podLabels: {app: 'prom'}}}}), {imageTag: 't'}));
    expect(q.spec.ingress).toEqual([
      {
        from: [
          {podSelector: {matchLabels: {'app.kubernetes.io/name': 'web'}}},
          {namespaceSelector: {matchLabels: {'kubernetes.io/metadata.name': 'batch'}}},
          {namespaceSelector: {matchLabels: {'kubernetes.io/metadata.name': 'shop'}}, podSelector: {matchLabels: {'app.kubernetes.io/name': 'cart'}}},
        ],
        ports: [{protocol: 'TCP', port: 'http'}],
      },
      {from: [{namespaceSelector: {matchLabels: {'kubernetes.io/metadata.name': 'obs'}}, podSelector: {matchLabels: {app: 'prom'}}}], ports: [{protocol: 'TCP', port: 'metrics'}]},
    ]);
    const closed = parseSpec(`name: api\nteam: t\nimage: r.example.com/t/api\nruntime: go\nmetrics: {enabled: false}\nnetwork: {callers: []}\n`);
    expect(policyOf(renderService(resolveEnvironment(closed, 'x', {x: {context: 'c'}}), {imageTag: 't'})).spec.ingress).toEqual([]);
  });
});

describe('applySteps', () => {
  const kinds = (steps: {kind: string}[][]) => steps.map((step) => step.map((o) => o.kind));

  it('applies the configuration a workload needs at once, before the workload, and what points at the workload after it', () => {
    const r = renderService(resolveEnvironment(spec, 'prod', {prod: {context: 'c'}}), {imageTag: 'abc123'});
    expect(kinds(applySteps(r.objects))).toEqual([['ServiceAccount', 'ConfigMap', 'Service', 'NetworkPolicy', 'PodDisruptionBudget'], ['Deployment'], ['HorizontalPodAutoscaler', 'Ingress']]);
  });

  it('applies namespaces and CRDs first, a role before its binding, a ServiceAccount before its token Secret', () => {
    const objects = inApplyOrder(['Ingress', 'RoleBinding', 'ServiceMonitor', 'Role', 'Deployment', 'Namespace', 'Secret', 'ServiceAccount', 'CustomResourceDefinition', 'ConfigMap'].map((kind) => ({kind})));
    expect(kinds(applySteps(objects))).toEqual([['CustomResourceDefinition', 'Namespace'], ['ServiceAccount', 'Role'], ['RoleBinding'], ['ConfigMap'], ['Secret'], ['ServiceMonitor'], ['Deployment'], ['Ingress']]);
    expect(applySteps(objects).flat()).toEqual(objects);
  });
});
