// A deploy engine for the API and policy tests, where no cluster is needed: it records what svapp
// asked it to do and answers like the deploy core (events on the sink, results of the same
// shape). Tests of real deploys use KubeEngine against the local control plane instead.
import type {DeployTarget, RevisionRecord, ServiceDeployResult, ServiceDiff, ServiceStatus} from '@bcl/deploy-core/deploy';
import type {BuildOutcome} from '@bcl/deploy-core/jenkins';
import {startTask} from '@bcl/deploy-core/events';
import type {ClusterSettings, EnvironmentSpec, ServiceSpec} from '@bcl/deploy-core/spec';
import type {BuildList, BuildRun, DeployEngine, EngineRun} from '../src/engine.js';

export interface EngineCall {
  kind: 'deploy' | 'rollback' | 'status' | 'history' | 'diff' | 'build' | 'builds';
  services: string[];
  environment?: string;
  run?: EngineRun;
}

export class RecordingEngine implements DeployEngine {
  readonly calls: EngineCall[] = [];
  /** While set, deploys wait for it (or for their signal) before they finish. */
  hold: Promise<void> | undefined;

  constructor(readonly clusters: Record<string, ClusterSettings> = {}) {}

  private result(spec: EnvironmentSpec, image: string, imageTag: string, outcome: ServiceDeployResult['outcome'], message: string): ServiceDeployResult {
    return {service: spec.name, environment: spec.environment, namespace: spec.namespace, context: 'recording', revision: this.calls.length, image, imageTag, gitSha: null, outcome, durationMs: 1, applied: [], pruned: [], message};
  }

  async deploy(targets: readonly DeployTarget[], run: EngineRun): Promise<ServiceDeployResult[]> {
    this.calls.push({kind: 'deploy', services: targets.map((t) => t.spec.name), environment: run.environment, run});
    return Promise.all(
      targets.map(async (t) => {
        const task = startTask(run.events, t.spec.name, 'connecting');
        task.update(`revision 1: applying ${t.rendered.objects.length} object(s)`);
        if (this.hold) await Promise.race([this.hold, new Promise((resolve) => run.signal.addEventListener('abort', resolve, {once: true}))]);
        if (run.signal.aborted) {
          task.done(false, 'interrupted');
          const r = this.result(t.spec, t.rendered.image, t.imageTag, 'interrupted', 'interrupted before anything was applied');
          run.events.emit({type: 'result', service: r.service, result: r});
          return r;
        }
        run.fence();
        task.done(true, 'revision 1 rolled out');
        const r = this.result(t.spec, t.rendered.image, t.imageTag, 'succeeded', 'rolled out');
        run.events.emit({type: 'result', service: r.service, result: r});
        return r;
      }),
    ).finally(() => run.events.emit({type: 'tasks-ended'}));
  }

  async rollback(specs: readonly EnvironmentSpec[], run: EngineRun): Promise<ServiceDeployResult[]> {
    this.calls.push({kind: 'rollback', services: specs.map((s) => s.name), environment: run.environment, run});
    return specs.map((s) => this.result(s, `${s.image}:previous`, 'previous', 'succeeded', 'rolled back'));
  }

  async status(spec: EnvironmentSpec): Promise<ServiceStatus> {
    this.calls.push({kind: 'status', services: [spec.name], environment: spec.environment});
    return {service: spec.name, environment: spec.environment, namespace: spec.namespace, context: 'recording', deployed: false, revision: null, image: null, state: 'not deployed', message: 'no Deployment', replicas: null, pods: [], lastDeploy: null, deployInProgress: null};
  }

  async history(spec: EnvironmentSpec): Promise<RevisionRecord[]> {
    this.calls.push({kind: 'history', services: [spec.name], environment: spec.environment});
    return [];
  }

  async diff(target: DeployTarget): Promise<ServiceDiff> {
    this.calls.push({kind: 'diff', services: [target.spec.name], environment: target.spec.environment});
    return {service: target.spec.name, environment: target.spec.environment, namespace: target.spec.namespace, changes: []};
  }

  async build(run: BuildRun): Promise<BuildOutcome> {
    this.calls.push({kind: 'build', services: [run.spec.name], environment: run.parameters.ENV});
    return {jenkins: 'ci', job: run.spec.name, queueId: 1, queueUrl: 'http://jenkins/queue/item/1/', number: 1, url: 'http://jenkins/job/x/1/', result: 'SUCCESS', durationMs: 1, gitSha: run.parameters.GIT_SHA, imageTag: run.parameters.IMAGE_TAG, env: run.parameters.ENV || null};
  }

  async builds(spec: ServiceSpec): Promise<BuildList> {
    this.calls.push({kind: 'builds', services: [spec.name]});
    return {jenkins: 'ci', job: spec.name, builds: []};
  }

  async close(): Promise<void> {}
}
