// svapp's API contract, on a real socket with mutual TLS, PostgreSQL and the deploy policy, with
// an engine that records what it is asked (no cluster): identities, the strict request schemas,
// protocol negotiation and deprecations, idempotent operation ids, refusals with nothing done,
// approvals, and the committed OpenAPI document.
import {randomUUID} from 'node:crypto';
import {fileURLToPath} from 'node:url';
import {assertOpenApiCompatible, checkOpenApi, openApiDocument} from '@bcl/http-api';
import {waitFor} from '@bcl/testkit';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {RecordingEngine} from './recording-engine.js';
import {deployBody, type Replica, spec, type Stack, startStack} from './support.js';

const POLICY = `timeZone: UTC
groups:
  release-managers: [rita@example.com]
teams:
  payments: [ann@example.com]
  search: [bob@example.com]
ci:
  jenkins: {builds: '*'}
environments:
  staging: {}
  prod: {}
rules:
  - id: own-team-staging
    allow: [deploy, rollback, cancel, read, build]
    who: '*'
    services: {ownTeam: true}
    environments: [staging]
  - id: prod-with-approval
    allow: [deploy, rollback]
    who: {teams: [payments]}
    services: {ownTeam: true}
    environments: [prod]
    approval: {group: release-managers}
  - id: release-managers-read
    allow: [read]
    who: {groups: [release-managers]}
    services: '*'
    environments: '*'
`;

const clusters = {staging: {context: 'staging'}, prod: {context: 'prod'}};
let stack: Stack;
let engine: RecordingEngine;
let svapp: Replica;

beforeAll(async () => {
  stack = await startStack(POLICY);
  stack.writeCatalog('payments-api', spec('payments-api', 'payments'));
  stack.writeCatalog('search-api', spec('search-api', 'search'));
  engine = new RecordingEngine(clusters);
  svapp = await stack.start({engine});
}, 180_000);
afterAll(async () => stack?.stop());

const id = () => randomUUID();
const payments = spec('payments-api', 'payments');
const ops = async () => (await stack.owner.db.selectFrom('svapp_operations').select(['id', 'state']).execute()).length;

describe('the API contract', () => {
  it('says who it is without authentication: versions, protocol range, capabilities', async () => {
    const r = await svapp.call(undefined, 'GET', '/v1/info', {headers: {'bcl-client': '', 'bcl-protocol': ''}});
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({server: 'svapp', version: '0.1.0', protocol: {min: 1, current: 2}, minClientVersion: null, replica: 'replica-0'});
    expect(r.body.capabilities).toEqual(expect.arrayContaining(['deploy', 'rollback', 'status', 'history', 'diff', 'build', 'operations', 'cancel', 'can-i', 'approvals', 'break-glass']));
  });

  it('refuses a caller without a client certificate (401) and a request with an unknown field (400 naming it)', async () => {
    const none = await svapp.call(undefined, 'POST', '/v1/deploys', {json: deployBody(id(), 'staging', [{text: payments}])});
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('no_client_certificate');
    const unknown = await svapp.call('ann@example.com', 'POST', '/v1/deploys', {json: {...deployBody(id(), 'staging', [{text: payments}]), colour: 'red'}});
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toBe('body.colour: unknown field');
    const nested = await svapp.call('ann@example.com', 'POST', '/v1/deploys', {json: {...deployBody(id(), 'staging', []), services: [{spec: payments, file: 'x', imageTag: 'v1', replicas: 3}]}});
    expect(nested.body.error.message).toBe('body.services.0.replicas: unknown field');
  });

  it('answers a spec problem as svctl would (exit 3, file, line and key)', async () => {
    const r = await svapp.call('ann@example.com', 'POST', '/v1/deploys', {json: deployBody(id(), 'staging', [{text: `${payments}replicas: many\n`}])});
    expect(r.status).toBe(422);
    expect(r.body.error).toMatchObject({code: 'svctl.spec_invalid', details: {exitCode: 3}});
    expect(r.body.error.message).toMatch(/\/home\/ann\/src\/svc0\/service\.yaml:7:\d+: replicas: /);
  });

  it('names its own configuration for an environment it has no cluster for (not svctl.clusters)', async () => {
    const r = await svapp.call('ann@example.com', 'POST', '/v1/deploys', {json: deployBody(id(), 'moon', [{text: payments}])});
    expect(r.body.error).toMatchObject({code: 'svctl.unknown_environment', details: {exitCode: 3}});
    expect(r.body.error.message).toContain("nor configured in svapp's clusters");
    expect(r.body.error.message).not.toContain('svctl.clusters');
  });

  it('accepts a deploy at once (202), streams it to its terminal event, and the same id again is the same operation', async () => {
    const opId = id();
    const body = deployBody(opId, 'staging', [{text: payments}]);
    const first = await svapp.call('ann@example.com', 'POST', '/v1/deploys', {json: body});
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    expect(first.body).toMatchObject({id: opId, kind: 'deploy', environment: 'staging', services: ['payments-api'], requester: {kind: 'person', name: 'ann@example.com'}, client: {name: 'svctl', version: '0.1.0'}, eventsUrl: `/v1/operations/${opId}/events`});
    // Readable at once from the same id (no 404 right after the trigger).
    expect((await svapp.call('ann@example.com', 'GET', `/v1/operations/${opId}`)).status).toBe(200);
    const events = await svapp.events('ann@example.com', opId);
    expect(events.map((e) => e.event)).toEqual(['accepted', 'started', 'task-started', 'task-progress', 'task-finished', 'result', 'tasks-ended', 'end']);
    expect(events.map((e) => Number(e.id))).toEqual(events.map((_, i) => i + 1));
    expect(JSON.parse(events.at(-1)!.data)).toMatchObject({state: 'succeeded', result: {outcome: 'succeeded', services: [{service: 'payments-api', outcome: 'succeeded'}]}});
    // A retry (same id, same request) is the same operation: one rollout.
    const again = await svapp.call('ann@example.com', 'POST', '/v1/deploys', {json: body});
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({id: opId, state: 'succeeded'});
    expect(engine.calls.filter((c) => c.kind === 'deploy' && c.run?.leaseHolder.endsWith(opId))).toHaveLength(1);
    // Another request under that id is a conflict.
    const other = await svapp.call('ann@example.com', 'POST', '/v1/deploys', {json: {...body, services: [{...body.services[0], imageTag: 'v2'}]}});
    expect(other.status).toBe(409);
    expect(other.body.error).toMatchObject({code: 'svapp.operation_exists', details: {exitCode: 6}});
    // Someone else posting the very same request under that id is not a retry: a conflict that
    // tells nothing of the operation (they may not read it), and no second rollout.
    const stranger = await svapp.call('bob@example.com', 'POST', '/v1/deploys', {json: body});
    expect(stranger.status).toBe(409);
    expect(stranger.body.error).toMatchObject({code: 'svapp.operation_exists', message: `operation ${opId} exists`});
    expect(JSON.stringify(stranger.body)).not.toContain('payments-api');
    expect(engine.calls.filter((c) => c.kind === 'deploy' && c.run?.leaseHolder.endsWith(opId))).toHaveLength(1);
    // Resuming after event 3 gives exactly the rest.
    const rest = await svapp.events('ann@example.com', opId, 3);
    expect(rest.map((e) => Number(e.id))).toEqual(events.slice(3).map((e) => Number(e.id)));
  });

  it('refuses what the policy does not allow (403, exit 4, who, what, where and why), creating nothing', async () => {
    const before = await ops();
    const r = await svapp.call('bob@example.com', 'POST', '/v1/deploys', {json: deployBody(id(), 'staging', [{text: payments}])});
    expect(r.status).toBe(403);
    expect(r.body.error).toMatchObject({code: 'svapp.denied', message: 'bob@example.com may not deploy payments-api to staging: no rule allows it', details: {exitCode: 4}});
    expect(await ops()).toBe(before);
    const audit = await stack.audit();
    expect(audit.at(-1)).toMatchObject({event: 'operation.refused', who: {kind: 'person', name: 'bob@example.com'}, decisions: [{outcome: 'denied', code: 'no-rule', decidedBy: {kind: 'no-rule'}}]});
  });

  it('takes the team from its catalog: editing team in the spec claims nothing', async () => {
    const before = await ops();
    const claimed = spec('payments-api', 'search');
    const r = await svapp.call('bob@example.com', 'POST', '/v1/deploys', {json: deployBody(id(), 'staging', [{text: claimed}])});
    expect(r.status).toBe(403);
    expect(r.body.error.message).toMatch(/^bob@example\.com may not deploy payments-api to staging: no rule allows it \(and .*service\.yaml names team search, but svapp's catalog \(.*payments-api\.yaml\) has payments-api as a service of team payments; a request cannot claim a team\)$/);
    // Even someone the policy would allow may not deploy a spec claiming another team.
    const ann = await svapp.call('ann@example.com', 'POST', '/v1/deploys', {json: deployBody(id(), 'staging', [{text: claimed}])});
    expect(ann.status).toBe(403);
    expect(ann.body.error.code).toBe('svapp.claim_refused');
    expect(await ops()).toBe(before);
  });

  it('waits for a second person\'s approval where a rule requires it; the requester cannot approve', async () => {
    const opId = id();
    const r = await svapp.call('ann@example.com', 'POST', '/v1/deploys', {json: deployBody(opId, 'prod', [{text: payments}])});
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({state: 'waiting-approval', waitingFor: {groups: ['release-managers']}});
    const self = await svapp.call('ann@example.com', 'POST', `/v1/operations/${opId}/approve`);
    expect(self.status, JSON.stringify(self.body)).toBe(403);
    expect(self.body.error.message).toBe('ann@example.com may not approve their own request to deploy payments-api to prod: another member of group release-managers must');
    const ok = await svapp.call('rita@example.com', 'POST', `/v1/operations/${opId}/approve`);
    expect(ok.status).toBe(202);
    const events = await svapp.events('ann@example.com', opId);
    expect(events.map((e) => e.event).slice(0, 4)).toEqual(['accepted', 'approval-required', 'approved', 'started']);
    expect(JSON.parse(events.find((e) => e.event === 'approved')!.data).message).toBe('ann@example.com may deploy payments-api to prod: rule prod-with-approval allows it, approved by rita@example.com (group release-managers)');
    expect(JSON.parse(events.at(-1)!.data).state).toBe('succeeded');
  });

  it('lets the requester withdraw and an approver reject a waiting operation (exit 4, nothing done)', async () => {
    const a = id();
    await svapp.call('ann@example.com', 'POST', '/v1/deploys', {json: deployBody(a, 'prod', [{text: payments}])});
    expect((await svapp.call('rita@example.com', 'POST', `/v1/operations/${a}/reject`, {json: {reason: 'not during the sale'}})).status).toBe(202);
    const end = JSON.parse((await svapp.events('ann@example.com', a)).at(-1)!.data);
    expect(end).toMatchObject({state: 'rejected', error: {code: 'svctl.rejected', exitCode: 4}});
    expect(end.error.message).toMatch(/rita@example\.com \(group release-managers\) rejected ann@example\.com's request to deploy payments-api to prod: not during the sale; nothing was done/);
  });

  it('cancels an operation: a running deploy stops and ends cancelled', async () => {
    let release!: () => void;
    engine.hold = new Promise((resolve) => (release = resolve));
    const opId = id();
    expect((await svapp.call('ann@example.com', 'POST', '/v1/deploys', {json: deployBody(opId, 'staging', [{text: payments}])})).status).toBe(202);
    await waitFor('the deploy to run', async () => (await svapp.call('ann@example.com', 'GET', `/v1/operations/${opId}`)).body.state === 'running');
    const c = await svapp.call('ann@example.com', 'POST', `/v1/operations/${opId}/cancel`);
    expect(c.status).toBe(202);
    const events = await svapp.events('ann@example.com', opId);
    release();
    engine.hold = undefined;
    expect(events.map((e) => e.event)).toContain('cancel-requested');
    expect(JSON.parse(events.at(-1)!.data)).toMatchObject({state: 'cancelled', error: {exitCode: 130}});
  });
});

describe('clients of other versions', () => {
  it('refuses a client below minClientVersion with the upgrade command, and changes nothing', async () => {
    const old = await stack.start({engine, minVersion: '0.2.0', replica: 'strict'});
    const before = await ops();
    const r = await old.call('ann@example.com', 'POST', '/v1/deploys', {json: deployBody(id(), 'staging', [{text: payments}])});
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({code: 'client_too_old', hint: 'upgrade with: svctl update', details: {upgradeCommand: 'svctl update', minClientVersion: '0.2.0'}});
    expect(await ops()).toBe(before);
    expect((await stack.audit()).at(-1)).toMatchObject({event: 'request.refused', code: 'client_too_old', client: 'svctl/0.1.0'});
    await old.close();
  });

  it('tells a deprecated client in headers and in a warnings field', async () => {
    const dep = await stack.start({engine, deprecations: [{clientBelow: '0.2.0', sunset: '2030-01-01', message: 'svctl 0.1 is deprecated'}], replica: 'deprecating'});
    const r = await dep.call('ann@example.com', 'GET', '/v1/services/payments-api/status?environment=staging');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.headers.warning).toBe('299 svapp "svctl 0.1 is deprecated (upgrade: svctl update)"');
    expect(r.headers.sunset).toBe('Tue, 01 Jan 2030 00:00:00 GMT');
    expect(r.headers.deprecation).toMatch(/^@\d+$/);
    expect(r.body.warnings).toEqual([{code: 'deprecated', message: 'svctl 0.1 is deprecated (upgrade: svctl update)', sunset: '2030-01-01'}]);
    await dep.close();
  });

  it('a server pinned to protocol 1 has no protocol-2 routes and says so in /v1/info', async () => {
    const v1 = await stack.start({engine, protocol: 1, replica: 'v1'});
    const info = await v1.call(undefined, 'GET', '/v1/info');
    expect(info.body.protocol).toEqual({min: 1, current: 1});
    expect(info.body.capabilities).not.toContain('can-i');
    expect((await v1.call('ann@example.com', 'POST', '/v1/can-i', {json: {action: 'deploy', service: 'payments-api', environment: 'staging'}})).status).toBe(404);
    await v1.close();
  });
});

describe('the OpenAPI document', () => {
  const committed = fileURLToPath(new URL('../openapi.json', import.meta.url));

  it('is the committed packages/svapp/openapi.json, with no incompatible change', async () => {
    await assertOpenApiCompatible(svapp.app, committed);
  });

  it('fails the check when a change would break clients: a removed response field, a new required request field', async () => {
    const doc = (await openApiDocument(svapp.app)) as any;
    const removed = structuredClone(doc);
    delete removed.components.schemas.Operation.properties.state;
    removed.components.schemas.Operation.required = removed.components.schemas.Operation.required.filter((f: string) => f !== 'state');
    const r1 = checkOpenApi(removed, committed, {update: false});
    expect(r1).toMatchObject({ok: false, status: 'incompatible'});
    expect(r1.message).toMatch(/state/);
    const required = structuredClone(doc);
    const body = required.paths['/v1/deploys'].post.requestBody.content['application/json'].schema;
    body.properties.approver = {type: 'string'};
    body.required.push('approver');
    const r2 = checkOpenApi(required, committed, {update: false});
    expect(r2).toMatchObject({ok: false, status: 'incompatible'});
    expect(r2.message).toMatch(/approver/);
  });
});
