import {encodeKrl, formatPublicKey, sshPublicKey} from '@bcl/openssh-formats';
import {generateKeyPairSync} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import type {Answer, AuthzHttp} from './client.js';
import {krlChanged} from './daemon.js';
import {type FileIo, refreshCaKeys, refreshKrl} from './host-files.js';
import {assessDaemonStatus, type DaemonStatus} from './status.js';

const krl = (version: number, serials: bigint[] = []) => encodeKrl({version: BigInt(version), generatedAt: new Date(), comment: 'test', certificates: [{caKey: Buffer.alloc(0), serials, keyIds: []}]});
const caLine = () => {
  const {type, blob} = sshPublicKey(generateKeyPairSync('ed25519').publicKey);
  return formatPublicKey(type, blob, 'ca');
};

/** A server that answers what the test says, recording the requests. */
function server(answers: Record<string, (headers: Record<string, string>) => Partial<Answer>>): AuthzHttp & {asked: {path: string; headers: Record<string, string>}[]} {
  const asked: {path: string; headers: Record<string, string>}[] = [];
  return {
    asked,
    async get(path, headers = {}) {
      asked.push({path, headers});
      const a = answers[path]?.(headers);
      if (!a) throw new Error(`cannot reach the server`);
      return {status: 200, headers: {}, body: Buffer.alloc(0), ...a};
    },
  };
}

function files(initial: Record<string, Buffer | string> = {}): FileIo & {writes: string[]; content: Map<string, Buffer>} {
  const content = new Map(Object.entries(initial).map(([k, v]) => [k, Buffer.from(v)]));
  const writes: string[] = [];
  return {
    content,
    writes,
    read: (p) => content.get(p),
    write: (p, d, mode) => {
      writes.push(`${p} ${mode.toString(8)}`);
      content.set(p, Buffer.from(d));
    },
  };
}

describe("the host's KRL file", () => {
  it('is fetched, checked and written 0644; the next time asked with If-None-Match, and a 304 writes nothing', async () => {
    const http = server({'/v1/krl': (h) => (h['if-none-match'] === '"krl-1-x"' ? {status: 304} : {body: krl(1, [5n]), headers: {etag: '"krl-1-x"'}})});
    const io = files();
    expect(await refreshKrl(http, io, '/h/krl', {etag: null, krlVersion: null})).toEqual({changed: true, etag: '"krl-1-x"', krlVersion: 1});
    expect(io.writes).toEqual(['/h/krl 644']);
    expect(await refreshKrl(http, io, '/h/krl', {etag: '"krl-1-x"', krlVersion: 1})).toEqual({changed: false, etag: '"krl-1-x"', krlVersion: 1});
    expect(http.asked[1]!.headers).toEqual({'if-none-match': '"krl-1-x"'});
    expect(io.writes).toHaveLength(1);
  });

  it('keeps the current file when the answer is an error, not a KRL, or an older KRL (which would un-revoke)', async () => {
    const io = files({'/h/krl': krl(7, [1n, 2n])});
    const before = io.content.get('/h/krl');
    for (const [answer, message] of [
      [{status: 503, body: Buffer.from('{"error":{"message":"down"}}')}, 'GET /v1/krl answered 503 down'],
      [{body: Buffer.from('<html>proxy login</html>')}, 'not an OpenSSH KRL'],
      [{body: krl(6)}, 'answered KRL version 6, older than version 7 on this host'],
    ] as const) {
      await expect(refreshKrl(server({'/v1/krl': () => answer}), io, '/h/krl', {etag: null, krlVersion: 7})).rejects.toThrow(message);
    }
    await expect(refreshKrl(server({}), io, '/h/krl', {etag: null, krlVersion: 7})).rejects.toThrow('cannot reach');
    expect(io.writes).toEqual([]);
    expect(io.content.get('/h/krl')).toBe(before);
  });
});

describe("the host's trusted CA keys file", () => {
  it('holds every key the service serves (both during a rotation); a bad or empty answer keeps the file', async () => {
    const [a, b] = [caLine(), caLine()];
    const io = files({'/h/ca.pub': `${a}\n`});
    const both = await refreshCaKeys(server({'/v1/ca.pub': () => ({body: Buffer.from(`${a}\n${b}\n`)})}), io, '/h/ca.pub');
    expect(both.changed).toBe(true);
    expect(both.keys).toHaveLength(2);
    expect(io.content.get('/h/ca.pub')!.toString()).toBe(`${a}\n${b}\n`);
    await expect(refreshCaKeys(server({'/v1/ca.pub': () => ({body: Buffer.from('\n')})}), io, '/h/ca.pub')).rejects.toThrow('answered no CA key');
    await expect(refreshCaKeys(server({'/v1/ca.pub': () => ({body: Buffer.from(`${b}\nssh-ed25519 garbage\n`)})}), io, '/h/ca.pub')).rejects.toThrow('not an SSH public key');
    expect(io.content.get('/h/ca.pub')!.toString()).toBe(`${a}\n${b}\n`);
  });
});

describe('the status report', () => {
  const at = (s: number) => new Date(Date.parse('2030-01-01T00:00:00Z') + s * 1000).toISOString();
  const status = (lastSuccess: string | null, error: string | null = null): DaemonStatus => ({
    version: 1,
    hostname: 'web1',
    server: 'https://authz',
    pid: 1,
    updatedAt: at(0),
    intervalSeconds: 30,
    staleAfterSeconds: 300,
    krl: {path: '/h/krl', lastAttempt: at(0), lastSuccess, lastChange: lastSuccess, error, krlVersion: 4, etag: null},
    caKeys: {path: '/h/ca.pub', lastAttempt: at(0), lastSuccess, lastChange: lastSuccess, error, keys: ['SHA256:a']},
    accounts: {lastAttempt: at(0), lastSuccess, lastChange: null, error, enabled: true, managed: [{login: 'deploy', uid: 2000, state: 'active', shell: '/bin/sh', createdAt: at(0), lockedAt: null}], notManaged: []},
  });
  it('says ok while fresh, and stale with how long and why once past staleAfter', () => {
    const fresh = assessDaemonStatus(status(at(0)), new Date(at(60)));
    expect(fresh.stale).toBe(false);
    expect(fresh.checks.map((c) => [c.name, c.status, c.message])).toEqual([
      ['cssh-daemon.krl', 'ok', 'KRL version 4 (/h/krl): refreshed 60s ago'],
      ['cssh-daemon.caKeys', 'ok', '1 trusted CA key(s) (/h/ca.pub): refreshed 60s ago'],
      ['cssh-daemon.accounts', 'ok', 'accounts: deploy active: refreshed 60s ago'],
    ]);
    const stale = assessDaemonStatus(status(at(0), 'cannot reach https://authz/v1/krl: connect ECONNREFUSED'), new Date(at(720)));
    expect(stale.stale).toBe(true);
    expect(stale.checks[0]).toMatchObject({status: 'fail', message: 'KRL version 4 (/h/krl): stale, last refreshed 12m ago (stale after 5m); last attempt 12m ago failed: cannot reach https://authz/v1/krl: connect ECONNREFUSED'});
    expect(assessDaemonStatus(status(null, 'refused'), new Date(at(1))).checks[0]).toMatchObject({status: 'fail', message: expect.stringContaining('never refreshed')});
  });
});

describe('waiting for the KRL to change (a long poll between cycles)', () => {
  const config = {intervalSeconds: 30, requestTimeoutSeconds: 5} as Parameters<typeof krlChanged>[0]['config'];
  const poll = (answer: (headers: Record<string, string>) => Partial<Answer>) => server({'/v1/krl?wait=30': answer});

  it('says changed only for a new ETag; an unchanged answer, an error or no ETag yet keep the interval', async () => {
    const changed = poll(() => ({headers: {etag: '"krl-2"'}}));
    expect(await krlChanged({http: changed, config}, '"krl-1"', new AbortController().signal)).toBe(true);
    expect(changed.asked).toEqual([{path: '/v1/krl?wait=30', headers: {'if-none-match': '"krl-1"'}}]);
    expect(await krlChanged({http: poll(() => ({status: 304, headers: {etag: '"krl-1"'}})), config}, '"krl-1"', new AbortController().signal)).toBe(false);
    // A service without long polls answers at once with the same KRL: not a change.
    expect(await krlChanged({http: poll(() => ({headers: {etag: '"krl-1"'}})), config}, '"krl-1"', new AbortController().signal)).toBe(false);
    expect(await krlChanged({http: server({}), config}, '"krl-1"', new AbortController().signal)).toBe(false);
    const none = poll(() => ({}));
    expect(await krlChanged({http: none, config}, null, new AbortController().signal)).toBe(false);
    expect(none.asked).toEqual([]);
  });
});
