// The deploy policy's golden decision table (packages/deploy-policy/test/golden/decisions.yaml,
// 54 requests) through svapp, on a real socket with each identity's client certificate, the
// time of each row injected: every row asked through can-i (POST /v1/can-i) and enforced (the
// real request: a deploy, rollback, build, read or cancel), with the approvals the rows make.
// can-i and enforcement must agree with each other and with the table, row by row; a refused
// request creates nothing, and every decision is in the audit log.
import {randomUUID} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {parseYaml} from '@bcl/spec-loader';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {RecordingEngine} from './recording-engine.js';
import {type Replica, spec, type Stack, startStack} from './support.js';

const golden = (p: string) => fileURLToPath(new URL(`../../deploy-policy/test/golden/${p}`, import.meta.url));

interface Row {
  name: string;
  as: string;
  action: 'deploy' | 'rollback' | 'cancel' | 'read' | 'build';
  service: string;
  team: string;
  env?: string;
  at: string;
  reason?: string;
  expect: {outcome: string; code: string; decidedBy: string; message: string; frozenUntil?: string};
  approvals?: {by: string; at: string; expect: {ok: boolean; code: string; message: string}}[];
}

const rows = parseYaml(readFileSync(golden('decisions.yaml'), 'utf8'), 'decisions.yaml').data as Row[];
const decidedBy = (d: {kind: string; id?: string; environment?: string; ci?: string}) => (d.kind === 'rule' ? `rule ${d.id}` : d.kind === 'freeze' ? `freeze ${d.environment}/${d.id}` : d.kind === 'ci-builds' ? `ci ${d.ci}` : 'no rule');
const seen = (d: any) => ({outcome: d.outcome, code: d.code, decidedBy: decidedBy(d.decidedBy), message: d.message, ...(d.details.freeze ? {frozenUntil: d.details.freeze.until} : {})});

let stack: Stack;
let svapp: Replica;
let now = new Date();
const specs = new Map<string, string>();

beforeAll(async () => {
  stack = await startStack(readFileSync(golden('policy.yaml'), 'utf8'));
  for (const r of rows) {
    if (specs.has(r.service)) continue;
    specs.set(r.service, spec(r.service, r.team));
    stack.writeCatalog(r.service, specs.get(r.service)!);
  }
  const clusters = Object.fromEntries([...new Set(rows.flatMap((r) => (r.env ? [r.env] : [])))].map((e) => [e, {context: e}]));
  svapp = await stack.start({engine: new RecordingEngine(clusters), now: () => now});
  for (const who of new Set(rows.flatMap((r) => [r.as, ...(r.approvals ?? []).map((a) => a.by)]))) await stack.identity(who.startsWith('ci:') ? who : who.toLowerCase());
}, 300_000);
afterAll(async () => stack?.stop());

const as = (who: string) => (who.startsWith('ci:') ? who : who);

/** An operation of a service and environment to cancel (as if someone had started it). */
async function anOperation(row: Row): Promise<string> {
  const id = randomUUID();
  await stack.owner.db
    .insertInto('svapp_operations')
    .values({id, kind: 'deploy', request_hash: 'x', request: JSON.stringify({}), environment: row.env ?? null, services: [row.service], requester: JSON.stringify({kind: 'person', name: 'someone@example.com'}), client: null, state: 'waiting-approval', decisions: JSON.stringify([]), result: null, runner: null, cancel_requested: null, started_at: null, finished_at: null})
    .execute();
  return id;
}

/** The request each row makes for real. */
async function enforce(row: Row): Promise<{status: number; body: any}> {
  const who = as(row.as);
  const reason = row.reason === undefined ? {} : {breakGlassReason: row.reason};
  switch (row.action) {
    case 'deploy':
      return svapp.call(who, 'POST', '/v1/deploys', {json: {id: randomUUID(), environment: row.env, services: [{spec: specs.get(row.service)!, file: `/src/${row.service}/service.yaml`, imageTag: 'v1'}], ...reason}});
    case 'rollback':
      return svapp.call(who, 'POST', '/v1/rollbacks', {json: {id: randomUUID(), environment: row.env, services: [{name: row.service}], ...reason}});
    case 'build':
      return svapp.call(who, 'POST', '/v1/builds', {json: {id: randomUUID(), service: row.service, gitSha: 'abc1234', imageTag: 'v1', ...(row.env ? {environment: row.env} : {})}});
    case 'read':
      // A read of no environment: the service's builds.
      return svapp.call(who, 'GET', row.env ? `/v1/services/${row.service}/history?environment=${row.env}` : `/v1/services/${row.service}/builds`);
    case 'cancel':
      return svapp.call(who, 'POST', `/v1/operations/${await anOperation(row)}/cancel`);
  }
}

describe('the golden decision table through svapp: can-i and enforcement agree on every row', () => {
  it('has at least 30 rows', () => expect(rows.length).toBeGreaterThanOrEqual(30));

  for (const row of rows) {
    it(row.name, async () => {
      now = new Date(row.at);
      const asked = await svapp.call(as(row.as), 'POST', '/v1/can-i', {json: {action: row.action, service: row.service, ...(row.env ? {environment: row.env} : {}), ...(row.reason === undefined ? {} : {breakGlassReason: row.reason})}});
      expect(asked.status, JSON.stringify(asked.body)).toBe(200);
      expect(seen(asked.body.decision)).toEqual(row.expect);
      expect(asked.body.text.split('\n')[0]).toBe(row.expect.message);

      const before = (await stack.audit()).length;
      const done = await enforce(row);
      const decisionLogged = (await stack.audit()).slice(before).flatMap((e) => (e.decision ? [e.decision] : ((e.decisions as unknown[]) ?? [])));
      expect(decisionLogged.map(seen)).toContainEqual(row.expect);
      if (row.expect.outcome === 'denied') {
        expect(done.status, JSON.stringify(done.body)).toBe(403);
        expect(done.body.error).toMatchObject({message: row.expect.message, details: {exitCode: 4}});
        return;
      }
      if (row.action === 'read') {
        expect(done.status, JSON.stringify(done.body)).toBe(200);
        return;
      }
      expect(done.status, JSON.stringify(done.body)).toBe(202);
      if (row.action === 'cancel') return;
      expect(done.body.state).toBe(row.expect.outcome === 'approval-required' ? 'waiting-approval' : 'queued');
      for (const a of row.approvals ?? []) {
        now = new Date(a.at);
        const r = await svapp.call(as(a.by), 'POST', `/v1/operations/${done.body.id}/approve`);
        if (a.expect.ok) {
          expect(r.status, JSON.stringify(r.body)).toBe(202);
          const approved = (await svapp.events(as(row.as), done.body.id)).find((e) => e.event === 'approved')!;
          expect(JSON.parse(approved.data).message).toBe(a.expect.message);
        } else {
          expect(r.status).toBe(403);
          expect(r.body.error).toMatchObject({code: `svapp.approval_${a.expect.code.replace(/-/g, '_')}`, message: a.expect.message});
        }
      }
    });
  }
});
