// Protocol negotiation as svctl meets it: too old, deprecated, too new, and /v1/info for all.
import {describe, expect, it} from 'vitest';
import {protocolHeaders, type ProtocolPolicy, warningTexts} from '../src/index.js';
import {buildServer} from './widgets-server.js';

const policy: ProtocolPolicy = {
  server: 'widgetd',
  protocol: {min: 2, current: 4},
  minClientVersion: '1.5.0',
  upgradeCommand: (name) => `${name} update`,
  deprecations: [{clientBelow: '1.8.0', since: '2026-10-01T00:00:00Z', sunset: '2027-01-31', message: 'widgetctl below 1.8.0 is deprecated and stops working on 2027-01-31'}],
};

const client = (version: string, range = '2-4') => {
  const [min, max] = range.split('-').map(Number) as [number, number?];
  return protocolHeaders({name: 'widgetctl', version, protocol: {min, max: max ?? min}});
};
const create = (headers: Record<string, string>) => ({method: 'POST' as const, url: '/v1/widgets', payload: {name: `w${Math.random()}`, size: 'small'}, headers});

describe('protocol negotiation', () => {
  it('refuses a client below minClientVersion with client_too_old and the upgrade command, and changes nothing', async () => {
    const changes: string[] = [];
    const app = await buildServer({policy, onChange: (w) => changes.push(w)});
    const res = await app.inject(create(client('1.4.9')));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: {
        code: 'client_too_old',
        message: 'widgetctl 1.4.9 is too old for this widgetd: the oldest supported version is 1.5.0',
        hint: 'upgrade with: widgetctl update',
        details: {clientVersion: '1.4.9', minClientVersion: '1.5.0', clientProtocol: {min: 2, max: 4}, serverProtocol: {min: 2, current: 4}, upgradeCommand: 'widgetctl update'},
      },
    });
    // Refused before the body was even validated: an invalid body gets the same answer.
    expect((await app.inject({...create(client('1.4.9')), payload: {bogus: true}})).json().error.code).toBe('client_too_old');
    expect(changes).toEqual([]);
  });

  it('refuses a client whose protocols are all older than the server speaks', async () => {
    const app = await buildServer({policy});
    const res = await app.inject(create(client('1.9.0', '1')));
    expect(res.json().error).toMatchObject({code: 'client_too_old', message: 'widgetctl 1.9.0 speaks protocol 1, and this widgetd needs at least 2', hint: 'upgrade with: widgetctl update'});
  });

  it('says the server is too old when the client needs a newer protocol', async () => {
    const app = await buildServer({policy});
    const res = await app.inject(create(client('3.0.0', '5-6')));
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('server_too_old');
    expect(res.json().error.message).toBe('this widgetd speaks protocol 2-4; widgetctl 3.0.0 needs at least 5: widgetd is too old for this client');
  });

  it('answers in the highest common protocol', async () => {
    const app = await buildServer({policy});
    expect((await app.inject(create(client('2.0.0', '3-9')))).headers['bcl-protocol']).toBe('4');
    expect((await app.inject(create(client('2.0.0', '2-3')))).headers['bcl-protocol']).toBe('3');
  });

  it('serves a deprecated client, with Deprecation, Sunset and Warning 299 headers and a warnings field', async () => {
    const app = await buildServer({policy});
    const res = await app.inject(create(client('1.6.0')));
    expect(res.statusCode).toBe(201);
    expect(res.headers.deprecation).toBe(`@${Date.parse('2026-10-01T00:00:00Z') / 1000}`);
    expect(res.headers.sunset).toBe('Sun, 31 Jan 2027 00:00:00 GMT');
    expect(res.headers.warning).toBe('299 widgetd "widgetctl below 1.8.0 is deprecated and stops working on 2027-01-31 (upgrade: widgetctl update)"');
    expect(warningTexts(res.headers.warning as string)).toEqual(['widgetctl below 1.8.0 is deprecated and stops working on 2027-01-31 (upgrade: widgetctl update)']);
    expect(res.json().warnings).toEqual([{code: 'deprecated', message: 'widgetctl below 1.8.0 is deprecated and stops working on 2027-01-31 (upgrade: widgetctl update)', sunset: '2027-01-31'}]);
    const current = await app.inject(create(client('1.8.0')));
    expect(current.headers.deprecation).toBeUndefined();
    expect(current.json().warnings).toBeUndefined();
  });

  it('refuses a request without client headers, naming the header; GET /v1/info needs none', async () => {
    const app = await buildServer({policy});
    const res = await app.inject(create({}));
    expect(res.json().error).toMatchObject({code: 'client_headers_missing', message: 'the request has no bcl-client header'});
    expect((await app.inject(create({'bcl-client': 'widgetctl/1.9.0', 'bcl-protocol': 'x'}))).json().error.message).toBe('the bcl-protocol header must be <min>-<max>, got "x"');
    const info = await app.inject({url: '/v1/info'});
    expect(info.statusCode).toBe(200);
    expect(info.json()).toEqual({
      version: '1.2.3',
      protocol: {min: 2, current: 4},
      minClientVersion: '1.5.0',
      deprecations: [{clientBelow: '1.8.0', sunset: '2027-01-31', message: 'widgetctl below 1.8.0 is deprecated and stops working on 2027-01-31'}],
    });
  });
});
