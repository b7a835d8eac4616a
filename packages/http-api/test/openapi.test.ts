// The compatibility check each server's test runs on its committed OpenAPI document.
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {z} from 'zod';
import {afterAll, describe, expect, it} from 'vitest';
import {assertOpenApiCompatible, checkOpenApi, compareOpenApi, createApp, openApiDocument} from '../src/index.js';
import {main} from '../src/openapi-cli.js';

const work = mkdtempSync(join(tmpdir(), 'openapi-test-'));
afterAll(() => rmSync(work, {recursive: true, force: true}));

interface Shape {
  requestExtra?: Record<string, z.ZodType>;
  sizes?: [string, ...string[]];
  response?: Record<string, z.ZodType>;
  withStatusRoute?: boolean;
}

/** Version 1 of a small API, and variations of it. */
async function api(shape: Shape = {}) {
  const app = await createApp({title: 'deploys', version: '1.0.0', log: false});
  app.post(
    '/v1/deploys',
    {
      schema: {
        body: z.strictObject({service: z.string(), env: z.string(), size: z.enum(shape.sizes ?? ['small', 'large']).optional(), ...shape.requestExtra}),
        response: {202: z.object(shape.response ?? {id: z.string(), phase: z.enum(['queued', 'running']), url: z.string()})},
      },
    },
    async () => ({id: '1', phase: 'queued' as const, url: ''}),
  );
  if (shape.withStatusRoute !== false) app.get('/v1/deploys/:id', {schema: {params: z.strictObject({id: z.string()}), response: {200: z.object({id: z.string()})}}}, async () => ({id: '1'}));
  return openApiDocument(app);
}

const rules = (changes: {kind: string; rule: string}[]) => changes.map((c) => `${c.kind}:${c.rule}`);

describe('compareOpenApi', () => {
  it('finds no change between two builds of the same API', async () => {
    expect(compareOpenApi(await api(), await api())).toEqual([]);
  });

  it('reports a removed response field as incompatible', async () => {
    const changes = compareOpenApi(await api(), await api({response: {id: z.string(), phase: z.enum(['queued', 'running'])}}));
    expect(changes).toEqual([{kind: 'incompatible', rule: 'response_field_removed', where: 'POST /v1/deploys 202 body.url', message: 'POST /v1/deploys 202 body.url was removed'}]);
  });

  it('reports a new required request field as incompatible, a new optional one as compatible', async () => {
    expect(rules(compareOpenApi(await api(), await api({requestExtra: {reason: z.string()}})))).toEqual(['incompatible:request_field_required']);
    expect(rules(compareOpenApi(await api(), await api({requestExtra: {reason: z.string().optional()}})))).toEqual(['compatible:request_field_added']);
  });

  it('reports a removed route and a narrowed request enum as incompatible', async () => {
    const removed = compareOpenApi(await api(), await api({withStatusRoute: false}));
    expect(removed).toEqual([{kind: 'incompatible', rule: 'route_removed', where: 'GET /v1/deploys/{id}', message: 'GET /v1/deploys/{id} was removed'}]);
    const narrowed = compareOpenApi(await api(), await api({sizes: ['small']}));
    expect(narrowed).toEqual([{kind: 'incompatible', rule: 'request_enum_narrowed', where: 'POST /v1/deploys body.size', message: 'POST /v1/deploys body.size: no longer accepts "large"'}]);
  });

  it('accepts added response fields, a widened request enum and a new route', async () => {
    const changes = compareOpenApi(await api({withStatusRoute: false, sizes: ['small']}), await api({response: {id: z.string(), phase: z.enum(['queued', 'running']), url: z.string(), startedAt: z.string()}}));
    expect(changes.every((c) => c.kind === 'compatible')).toBe(true);
    expect(rules(changes)).toEqual(expect.arrayContaining(['compatible:response_field_added', 'compatible:route_added']));
  });

  it('reports a response field that became optional or changed type', async () => {
    const changes = compareOpenApi(await api(), await api({response: {id: z.number(), phase: z.enum(['queued', 'running']), url: z.string().optional()}}));
    expect(rules(changes)).toEqual(['incompatible:response_type_changed', 'incompatible:response_field_optional']);
  });
});

describe('checkOpenApi against the committed document', () => {
  it('writes a new document only when asked, then says up to date', async () => {
    const file = join(work, 'first.json');
    expect(checkOpenApi(await api(), file, {update: false})).toMatchObject({status: 'outdated', ok: false, message: expect.stringContaining('BCL_UPDATE_OPENAPI=1')});
    expect(checkOpenApi(await api(), file, {update: true})).toMatchObject({status: 'updated', ok: true});
    expect(checkOpenApi(await api(), file, {update: false})).toMatchObject({status: 'same', ok: true});
  });

  it('fails on an incompatible change even in update mode, and leaves the committed file alone', async () => {
    const file = join(work, 'breaking.json');
    checkOpenApi(await api(), file, {update: true});
    const before = readFileSync(file, 'utf8');
    const result = checkOpenApi(await api({requestExtra: {reason: z.string()}}), file, {update: true});
    expect(result).toMatchObject({status: 'incompatible', ok: false});
    expect(result.message).toContain('POST /v1/deploys body.reason is now required');
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(checkOpenApi(await api({requestExtra: {reason: z.string()}}), file, {update: true, allowBreaking: true}).status).toBe('updated');
  });

  it('reports compatible but uncommitted changes as outdated', async () => {
    const file = join(work, 'outdated.json');
    checkOpenApi(await api(), file, {update: true});
    const result = checkOpenApi(await api({requestExtra: {note: z.string().optional()}}), file, {update: false});
    expect(result).toMatchObject({status: 'outdated', ok: false});
    expect(result.message).toContain('body.note was added (optional)');
  });

  it('assertOpenApiCompatible throws the message a server test shows', async () => {
    const file = join(work, 'assert.json');
    checkOpenApi(await api(), file, {update: true});
    const app = await createApp({title: 'deploys', version: '1.0.0', log: false});
    await expect(assertOpenApiCompatible(app, file)).rejects.toThrow(/POST \/v1\/deploys was removed/);
  });
});

describe('bcl-openapi-diff', () => {
  it('exits 1 on incompatible changes, 0 otherwise, 2 on bad usage', async () => {
    const a = join(work, 'a.json');
    const b = join(work, 'b.json');
    writeFileSync(a, JSON.stringify(await api()));
    writeFileSync(b, JSON.stringify(await api({withStatusRoute: false})));
    const out: string[] = [];
    const io = {out: (s: string) => out.push(s), err: (s: string) => out.push(s)};
    expect(main([a, b], io)).toBe(1);
    expect(out.join('')).toBe('INCOMPATIBLE GET /v1/deploys/{id} was removed\n');
    expect(main([b, a], io)).toBe(0);
    expect(main([a], io)).toBe(2);
    expect(main([a, join(work, 'missing.json')], io)).toBe(2);
  });
});
