import {describe, expect, it} from 'vitest';
import {checkSpec, parseSpec, resolveEnvironment} from './index.js';

const minimal = `name: hello
team: payments
image: registry.example.com/payments/hello
runtime: node
`;

function problems(text: string) {
  const r = checkSpec(text);
  if (r.ok) throw new Error('expected problems');
  return r.problems;
}

describe('service spec', () => {
  it('fills every default of a minimal spec', () => {
    const spec = parseSpec(minimal);
    expect(spec).toMatchObject({
      port: 8080,
      replicas: 2,
      probes: {readiness: {path: '/ready', periodSeconds: 10}, liveness: {path: '/healthz'}, startupSeconds: 60},
      imagePolicy: {mutableTags: ['latest']},
      network: {},
      metrics: {enabled: true, path: '/metrics'},
      slo: {availability: 99.9, latencyThresholdMs: 300, latencyObjective: 99, windowDays: 30},
      rollout: {progressDeadlineSeconds: 120, maxUnavailable: 0},
      git: {branch: 'main'},
      routes: [],
      env: {},
      environments: {},
    });
  });

  it('names the key path and line of an unknown key, with a suggestion', () => {
    const p = problems(`${minimal}environments:\n  prod:\n    replica: 3\n`);
    expect(p).toEqual([{key: 'environments.prod.replica', message: 'unknown key (did you mean "replicas"?)', line: 7, column: 5}]);
  });

  it('names the key path and line of a wrong type', () => {
    const p = problems(`${minimal}port: eighty\n`);
    expect(p[0]).toMatchObject({key: 'port', line: 5});
    expect(p[0]!.message).toMatch(/number/);
  });

  it('reports missing required keys and invalid YAML', () => {
    expect(problems('name: hello\n').map((p) => p.key)).toEqual(['team', 'image', 'runtime']);
    expect(problems('name: [\n')[0]!.message).toMatch(/not valid YAML/);
    expect(problems('')[0]!.message).toMatch(/empty/);
  });

  it('rejects an image with a tag and an unknown runtime', () => {
    const p = problems(minimal.replace('hello\nruntime: node', 'hello:1.0\nruntime: rust'));
    expect(p.map((x) => x.key)).toEqual(['image', 'runtime']);
    expect(p[1]!.message).toMatch(/node, go, python, java, static/);
  });

  it('throws an exit-3 error naming the file', () => {
    expect(() => parseSpec(`${minimal}replicas: {min: 3, max: 2}\n`, 'svc/service.yaml')).toThrowError(/^svc\/service\.yaml:5:25: replicas\.max: max must be at least min$/);
    try {
      parseSpec('name: 1\n', 'x.yaml');
    } catch (error) {
      expect((error as {exitCode: number}).exitCode).toBe(3);
    }
  });

  it('merges environment overrides: maps key by key, lists and replicas replaced', () => {
    const spec = parseSpec(`${minimal}env: {A: "1", B: 2}
resources: {limits: {memory: 512Mi}}
routes: [{host: hello.example.com}]
environments:
  prod:
    namespace: payments-prod
    replicas: {min: 2, max: 5}
    env: {B: three}
    resources: {requests: {cpu: 250m}}
    routes: []
`);
    const prod = resolveEnvironment(spec, 'prod');
    expect(prod).toMatchObject({
      environment: 'prod',
      cluster: 'prod',
      namespace: 'payments-prod',
      env: {A: '1', B: 'three'},
      resources: {requests: {cpu: '250m', memory: '128Mi'}, limits: {cpu: '500m', memory: '512Mi'}},
      replicas: {min: 2, max: 5, cpuUtilization: 70},
      routes: [],
    });
    const staging = resolveEnvironment(spec, 'staging', {staging: {context: 'kind-staging', namespace: 'apps'}});
    expect(staging).toMatchObject({namespace: 'apps', context: 'kind-staging', replicas: 2, routes: [{host: 'hello.example.com', path: '/'}]});
    expect(() => resolveEnvironment(spec, 'qa')).toThrowError(/environment "qa" is neither declared/);
  });

  it('refuses the same variable as env and secret', () => {
    const spec = parseSpec(`${minimal}env: {TOKEN: x}\nsecrets: {TOKEN: {secret: s, key: k}}\n`);
    expect(() => resolveEnvironment(spec, 'dev', {dev: {context: 'c'}})).toThrowError(/TOKEN is both/);
  });

  it('refuses callers that name nothing, and a startup budget out of range', () => {
    expect(problems(`${minimal}probes: {startupSeconds: 2}\n`)[0]).toMatchObject({key: 'probes.startupSeconds', message: expect.stringMatching(/at least 5/)});
    expect(problems(`${minimal}network: {callers: [{}]}\n`)[0]).toMatchObject({key: 'network.callers[0]', message: 'name a service, a namespace, or both'});
    expect(problems(`${minimal}network: {caller: []}\n`)[0]).toMatchObject({key: 'network.caller', message: 'unknown key (did you mean "callers"?)'});
  });

  it('marks an environment production from the spec or the cluster configuration', () => {
    const spec = parseSpec(`${minimal}environments: {prod: {production: true}, staging: {}}\n`);
    expect(resolveEnvironment(spec, 'prod').production).toBe(true);
    expect(resolveEnvironment(spec, 'staging').production).toBe(false);
    expect(resolveEnvironment(spec, 'staging', {staging: {context: 'c', production: true}}).production).toBe(true);
  });
});
