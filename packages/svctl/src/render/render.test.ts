import {describe, expect, it} from 'vitest';
import {parseSpec, resolveEnvironment} from '../spec/index.js';
import {renderService} from './index.js';

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
    expect(r.objects.map((o) => o.kind)).toEqual(['ServiceAccount', 'ConfigMap', 'Service', 'PodDisruptionBudget', 'Deployment', 'Ingress']);
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
});
