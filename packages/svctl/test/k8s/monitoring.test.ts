import {afterAll, describe, expect, inject, it} from 'vitest';
import {kubectl, LOCAL_CONTEXT, waitFor} from '@bcl/testkit';
import {connect} from '@bcl/deploy-core/kube';
import {renderAlertRules} from '@bcl/deploy-core/observability';
import {detectMonitoringKinds, monitoringObjects} from '@bcl/deploy-core/observability';
import {parseSpec, resolveEnvironment} from '@bcl/deploy-core/spec';

// Detection of the Prometheus operator's CRDs through API discovery, against the real local
// control plane: absent, then installed (the CRDs as the operator ships them, minus the schema).
const kubeconfig = inject('kubeconfig');

const crd = (kind: string, plural: string) => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: {name: `${plural}.monitoring.coreos.com`},
  spec: {
    group: 'monitoring.coreos.com',
    names: {kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase()},
    scope: 'Namespaced',
    versions: [{name: 'v1', served: true, storage: true, schema: {openAPIV3Schema: {type: 'object', 'x-kubernetes-preserve-unknown-fields': true}}}],
  },
});

describe('ServiceMonitor for svctl deploy', () => {
  afterAll(async () => {
    await kubectl(kubeconfig, ['delete', 'crd', 'servicemonitors.monitoring.coreos.com', 'prometheusrules.monitoring.coreos.com', '--ignore-not-found'], {allowFailure: true});
  });

  it('finds the Prometheus operator kinds only when the cluster serves them, and the objects apply', async () => {
    const clients = await connect({context: LOCAL_CONTEXT, kubeconfig});
    expect(await detectMonitoringKinds(clients)).toEqual({serviceMonitor: false, prometheusRule: false});
    const base = parseSpec('name: hello\nteam: platform\nimage: registry.example.com/platform/hello\nruntime: node\nnamespace: default\n');
    const spec = resolveEnvironment(base, 'test', {test: {context: LOCAL_CONTEXT}});
    expect(monitoringObjects(spec, await detectMonitoringKinds(clients))).toEqual([]);

    await kubectl(kubeconfig, ['apply', '-f', '-'], {input: JSON.stringify({apiVersion: 'v1', kind: 'List', items: [crd('ServiceMonitor', 'servicemonitors')]})});
    const onlyMonitor = await waitFor('the ServiceMonitor kind in discovery', async () => {
      const kinds = await detectMonitoringKinds(await connect({context: LOCAL_CONTEXT, kubeconfig}));
      return kinds.serviceMonitor ? kinds : undefined;
    });
    expect(onlyMonitor).toEqual({serviceMonitor: true, prometheusRule: false});

    await kubectl(kubeconfig, ['apply', '-f', '-'], {input: JSON.stringify(crd('PrometheusRule', 'prometheusrules'))});
    const both = await waitFor('the PrometheusRule kind in discovery', async () => {
      const kinds = await detectMonitoringKinds(await connect({context: LOCAL_CONTEXT, kubeconfig}));
      return kinds.prometheusRule ? kinds : undefined;
    });
    const objects = monitoringObjects(spec, both, renderAlertRules(base));
    expect(objects.map((o) => o.kind)).toEqual(['ServiceMonitor', 'PrometheusRule']);
    // The API server takes them (server-side apply, as svctl deploy applies).
    const applied = await kubectl(kubeconfig, ['apply', '--server-side', '--field-manager', 'svctl', '-f', '-'], {input: JSON.stringify({apiVersion: 'v1', kind: 'List', items: objects})});
    expect(applied.stdout).toContain('servicemonitor.monitoring.coreos.com/hello serverside-applied');
    await kubectl(kubeconfig, ['delete', 'servicemonitor,prometheusrule', 'hello', '-n', 'default'], {allowFailure: true});
  });
});
