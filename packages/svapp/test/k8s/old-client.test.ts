// A client of an older protocol against the current svapp, from recorded exchanges: each protocol
// version's exchanges (svctl deploying, rolling back and reading history through a recording
// proxy) were recorded once, while that version was svapp's current one, and are kept under
// test/fixtures/protocol-<N>/ unchanged. Replayed against this svapp on the local cluster, every
// request must still be accepted, do what it did (the deploys and the rollback really happen),
// and every answer must still carry every field the old client saw, with the same types (new
// fields are ignored by old clients). With BCL_RECORD_PROTOCOL_FIXTURES=1 the test records the
// current protocol's exchanges instead (see docs/testing.md).
import {randomUUID} from 'node:crypto';
import {existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseEventStream} from '@bcl/http-api/sse-client';
import {type ClusterSvapp, kubectl, type RecordedExchange, runCli, startRecordingProxy, startSvappOnCluster, svctlServerHome, testNamespace, type TestNamespace} from '@bcl/testkit';
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest';
import {PROTOCOL} from '../../src/api.js';
import {serviceRepo, testSpec} from '../../../svctl/test/helpers.js';
import {call, type Credentials, credentialsOf} from './cluster-support.js';

const kubeconfig = inject('kubeconfig');
const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));
const RECORD = process.env.BCL_RECORD_PROTOCOL_FIXTURES === '1';
/** The namespace the exchanges were recorded in; replays substitute their own. */
const RECORDED_NAMESPACE = 'svapp-protocol-fixture';

interface Fixture {
  protocol: number;
  client: string;
  service: string;
  recordedAt: string;
  exchanges: RecordedExchange[];
}

let svapp: ClusterSvapp;
let ns: TestNamespace;
let creds: Credentials;

beforeAll(async () => {
  ns = RECORD ? {name: RECORDED_NAMESPACE, remove: async () => void (await kubectl(kubeconfig, ['delete', 'namespace', RECORDED_NAMESPACE, '--wait=false'], {allowFailure: true}))} : await testNamespace(kubeconfig, 'svapp-old-client');
  if (RECORD) await kubectl(kubeconfig, ['create', 'namespace', RECORDED_NAMESPACE]);
  // Old clients are told they are deprecated (headers and a warnings field they ignore).
  svapp = await startSvappOnCluster(kubeconfig, {catalog: {legacy: testSpec('legacy', ns.name)}, extraConfig: `clients:\n  deprecations:\n    - {protocolBelow: ${PROTOCOL.current}, sunset: 2031-01-01, message: "protocol ${PROTOCOL.current - 1} clients are deprecated"}`});
  const home = await svctlServerHome(svapp, svapp.replicas[0]!.url);
  creds = {...credentialsOf(home.configFile)};
}, 180_000);
afterAll(async () => {
  await svapp?.stop();
  await ns?.remove();
});

/** The problems of `now` as an answer to a client that read `old`: a field gone, or of another type. */
function incompatibilities(old: unknown, now: unknown, path = ''): string[] {
  if (old === null || old === undefined) return [];
  if (Array.isArray(old)) {
    if (!Array.isArray(now)) return [`${path}: was an array, now ${JSON.stringify(now)?.slice(0, 40)}`];
    return old.length > 0 && now.length > 0 ? incompatibilities(old[0], now[0], `${path}[0]`) : [];
  }
  if (typeof old === 'object') {
    if (!now || typeof now !== 'object') return [`${path}: was an object, now ${typeof now}`];
    return Object.entries(old as Record<string, unknown>).flatMap(([k, v]) => (k in (now as object) ? incompatibilities(v, (now as Record<string, unknown>)[k], `${path}.${k}`) : [`${path}.${k}: removed`]));
  }
  return typeof old === typeof now ? [] : [`${path}: was ${typeof old}, now ${typeof now}`];
}

if (RECORD) {
  describe(`recording protocol ${PROTOCOL.current}'s exchanges`, () => {
    it('records svctl deploying, rolling back and reading history through svapp', async () => {
      const proxyCert = await svapp.pki.issueServer({dns: ['localhost'], ip: ['127.0.0.1']});
      const home = await svctlServerHome(svapp, svapp.replicas[0]!.url);
      const proxy = await startRecordingProxy({target: svapp.replicas[0]!.url, tls: proxyCert, upstream: {ca: svapp.site.serverCa, ...home.cert}});
      writeFileSync(home.configFile, readFileSync(home.configFile, 'utf8').replace(svapp.replicas[0]!.url, proxy.url));
      const repo = await serviceRepo(testSpec('legacy', RECORDED_NAMESPACE));
      const svctl = (args: string[]) => runCli('svctl', args, {env: home.cliEnv, cwd: repo.dir});
      for (const args of [['deploy', '--env', 'test', '--image-tag', 'v1'], ['deploy', '--env', 'test', '--image-tag', 'v2'], ['rollback', '--env', 'test'], ['history', '--env', 'test'], ['status', '--env', 'test']]) {
        const r = await svctl(args);
        expect(r.exitCode, r.stderr).toBe(0);
      }
      await proxy.stop();
      repo.remove();
      home.remove();
      const protocol = Number(proxy.exchanges[0]!.request.headers['bcl-protocol']!.split('-').at(-1));
      mkdirSync(join(FIXTURES, `protocol-${protocol}`), {recursive: true});
      const fixture: Fixture = {protocol, client: proxy.exchanges[0]!.request.headers['bcl-client']!, service: 'legacy', recordedAt: new Date().toISOString(), exchanges: proxy.exchanges};
      writeFileSync(join(FIXTURES, `protocol-${protocol}`, 'exchanges.json'), `${JSON.stringify(fixture, null, 2)}\n`);
    });
  });
} else {
  const recorded = existsSync(FIXTURES) ? readdirSync(FIXTURES).filter((d) => /^protocol-\d+$/.test(d)).map((d) => JSON.parse(readFileSync(join(FIXTURES, d, 'exchanges.json'), 'utf8')) as Fixture) : [];

  describe('clients of older protocols', () => {
    it('has the recorded exchanges of every protocol before the current one', () => {
      expect(recorded.map((f) => f.protocol).sort()).toEqual(Array.from({length: PROTOCOL.current - PROTOCOL.min}, (_, i) => PROTOCOL.min + i));
    });

    for (const fixture of recorded) {
      it(`a protocol ${fixture.protocol} client (${fixture.client}, recorded ${fixture.recordedAt.slice(0, 10)}) deploys, rolls back and reads history; every field it read is still there`, async () => {
        const ids = new Map<string, string>();
        const rewrite = (text: string) =>
          text.replaceAll(RECORDED_NAMESPACE, ns.name).replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, (id) => {
            if (!ids.has(id)) ids.set(id, randomUUID());
            return ids.get(id)!;
          });
        const problems: string[] = [];
        for (const ex of fixture.exchanges) {
          const path = rewrite(ex.request.path);
          const body = ex.request.body === undefined ? undefined : JSON.parse(rewrite(JSON.stringify(ex.request.body)));
          const r = await call(creds, ex.request.method, path, {headers: ex.request.headers, ...(body !== undefined ? {json: body} : {})});
          const what = `${ex.request.method} ${ex.request.path}`;
          expect(r.status, `${what}: ${JSON.stringify(r.body)}`).toBe(ex.response.status);
          expect(r.raw.headers['bcl-protocol'], what).toBe(ex.response.headers['bcl-protocol']);
          if (ex.response.events) {
            const events: {event: string; data: unknown}[] = [];
            for await (const e of parseEventStream(r.raw)) events.push({event: e.event, data: JSON.parse(e.data)});
            const old = ex.response.events.at(-1)!;
            const now = events.at(-1)!;
            expect(now.event, what).toBe('end');
            expect((now.data as {state: string}).state, what).toBe((old.data as {state: string}).state);
            problems.push(...incompatibilities(old.data, now.data, `${what} end`));
            for (const type of new Set(ex.response.events.map((e) => e.event))) {
              const before = ex.response.events.find((e) => e.event === type)!;
              const after = events.find((e) => e.event === type);
              if (!after) problems.push(`${what}: no ${type} event any more`);
              else problems.push(...incompatibilities(before.data, after.data, `${what} ${type}`));
            }
          } else {
            problems.push(...incompatibilities(ex.response.body, r.body, what));
            if (r.status < 300 && typeof r.body === 'object') expect(r.raw.headers.warning, what).toMatch(/^299 svapp "protocol \d+ clients are deprecated \(upgrade: svctl update\)"$/);
          }
        }
        expect(problems).toEqual([]);
        // What the old client did, really happened: two deploys, then the rollback to the first.
        const image = (await kubectl(kubeconfig, ['get', 'deployment/legacy', '-n', ns.name, '-o', 'jsonpath={.spec.template.spec.containers[0].image}'])).stdout;
        expect(image).toBe('registry.example.com/platform/legacy:v1');
      });
    }
  });
}
