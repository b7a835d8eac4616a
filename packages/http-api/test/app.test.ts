// The contract every BCL server gets from createApp, through app.inject().
import {z} from 'zod';
import {afterEach, describe, expect, it} from 'vitest';
import {createApp, openApiDocument} from '../src/index.js';
import {buildServer} from './widgets-server.js';

const lines: string[] = [];
const log = {stream: {write: (l: string) => lines.push(l)}};
afterEach(() => {
  lines.length = 0;
});

const post = (body: unknown, headers: Record<string, string> = {}) => ({method: 'POST' as const, url: '/v1/widgets', payload: body as object, headers});

describe('request validation', () => {
  it('answers 400 naming an unknown field, at any depth, in the body and the query', async () => {
    const app = await buildServer();
    const res = await app.inject(post({name: 'a', size: 'small', colour: 'red'}));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({error: {code: 'invalid_request', message: 'body.colour: unknown field', details: {issues: [{path: 'body.colour', message: 'unknown field'}]}}});
    const nested = await app.inject(post({name: 'a', size: 'small', spec: {colour: 'red', shade: 'dark'}}));
    expect(nested.json().error.message).toBe('body.spec.shade: unknown field');
    const query = await app.inject({method: 'GET', url: '/v1/widgets?limit=5&lmit=6'});
    expect(query.statusCode).toBe(400);
    expect(query.json().error.message).toBe('query.lmit: unknown field');
  });

  it('names a missing or wrong field with what was expected', async () => {
    const app = await buildServer();
    const missing = await app.inject(post({size: 'small'}));
    expect(missing.json().error).toMatchObject({code: 'invalid_request', message: expect.stringMatching(/^body\.name: /)});
    const wrong = await app.inject(post({name: 'a', size: 'huge'}));
    expect(wrong.json().error.message).toMatch(/^body\.size: .*"small".*"large"/);
    const params = await app.inject({method: 'GET', url: '/v1/widgets/abc'});
    expect(params.json().error.message).toMatch(/^params\.id: /);
  });

  it('refuses bodies over the limit, bodies that are not JSON, and other content types', async () => {
    const app = await buildServer({bodyLimit: 200});
    const big = await app.inject(post({name: 'x'.repeat(300), size: 'small'}));
    expect(big.statusCode).toBe(413);
    expect(big.json().error).toEqual({code: 'body_too_large', message: 'the request body is larger than 200 bytes'});
    const bad = await app.inject({method: 'POST', url: '/v1/widgets', payload: '{"name": ', headers: {'content-type': 'application/json'}});
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('invalid_json');
    const text = await app.inject({method: 'POST', url: '/v1/widgets', payload: 'name=a', headers: {'content-type': 'application/x-www-form-urlencoded'}});
    expect(text.statusCode).toBe(415);
    expect(text.json().error.code).toBe('unsupported_media_type');
  });

  it('refuses at start-up a request schema that would drop unknown fields', async () => {
    const app = await createApp({title: 't', version: '1.0.0', log: false});
    expect(() => app.post('/v1/things', {schema: {body: z.strictObject({a: z.object({b: z.string()})})}}, async () => ({}))).toThrow(
      'POST /v1/things: the body schema must refuse unknown fields: use z.strictObject at a',
    );
  });
});

describe('answers and errors', () => {
  it('sends only the fields the response schema declares', async () => {
    const app = await buildServer();
    const res = await app.inject(post({name: 'a', size: 'small'}));
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({id: '1', name: 'a', size: 'small', tags: []});
  });

  it('maps a typed error to its status and the one envelope, with hint and details', async () => {
    const app = await buildServer();
    await app.inject(post({name: 'a', size: 'small'}));
    const res = await app.inject(post({name: 'a', size: 'large'}));
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({error: {code: 'widget_exists', message: 'a widget named a exists', hint: 'choose another name', details: {name: 'a'}}});
  });

  it('answers an unexpected failure with 500 naming only the request id, and logs the stack', async () => {
    const app = await buildServer({log});
    const res = await app.inject({method: 'GET', url: '/v1/widgets/7', headers: {'x-request-id': 'req-42'}});
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({error: {code: 'internal', message: 'internal error (request req-42)'}});
    expect(res.body).not.toContain('secret');
    const logged = lines.map((l) => JSON.parse(l));
    expect(logged.find((l) => l.level === 50)).toMatchObject({reqId: 'req-42', err: {message: 'widget store exploded: /var/lib/secret/path'}});
  });

  it('answers 404 with the envelope for an unknown route', async () => {
    const app = await buildServer();
    const res = await app.inject({method: 'DELETE', url: '/v1/nothing?x=1'});
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({error: {code: 'not_found', message: 'no such endpoint: DELETE /v1/nothing'}});
  });
});

describe('request ids and logs', () => {
  it('echoes a well-formed X-Request-Id, makes one up otherwise', async () => {
    const app = await buildServer();
    expect((await app.inject({url: '/v1/widgets', headers: {'x-request-id': 'abc-123'}})).headers['x-request-id']).toBe('abc-123');
    const made = (await app.inject({url: '/v1/widgets', headers: {'x-request-id': 'no spaces\nor newlines'}})).headers['x-request-id'];
    expect(made).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs one JSON line per request, without headers, query strings or bodies', async () => {
    const app = await buildServer({log});
    await app.inject({method: 'GET', url: '/v1/widgets?limit=2&token=s3cr3t-query', headers: {authorization: 'Bearer s3cr3t-header', cookie: 'session=s3cr3t-cookie'}});
    await app.inject(post({name: 's3cr3t-body', size: 'small'}, {authorization: 'Bearer s3cr3t-header'}));
    expect(lines.join('')).not.toMatch(/s3cr3t/);
    const requests = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request');
    expect(requests).toHaveLength(2);
    expect(requests[0]).toMatchObject({method: 'GET', path: '/v1/widgets', route: '/v1/widgets', status: 200, reqId: expect.any(String), ms: expect.any(Number)});
    expect(requests[1]).toMatchObject({method: 'POST', status: 201});
  });
});

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1, generated from the same schemas, and served at /v1/openapi.json', async () => {
    const app = await buildServer();
    const doc = (await openApiDocument(app)) as any;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toEqual({title: 'widgets', version: '1.2.3'});
    const create = doc.paths['/v1/widgets'].post;
    const body = create.requestBody.content['application/json'].schema;
    expect(body).toMatchObject({type: 'object', additionalProperties: false, required: ['name', 'size']});
    expect(body.properties.size).toEqual({type: 'string', enum: ['small', 'large']});
    expect(Object.keys(create.responses)).toEqual(['201', '4XX', '5XX']);
    expect(doc.components.schemas.ErrorEnvelope).toBeDefined();
    expect(doc.paths['/v1/widgets'].get.parameters.map((p: {name: string; in: string}) => `${p.in}.${p.name}`)).toEqual(['query.limit', 'query.token']);
    const served = await app.inject({url: '/v1/openapi.json'});
    expect(served.json()).toEqual(doc);
    expect(doc.paths['/v1/openapi.json']).toBeUndefined();
  });
});
