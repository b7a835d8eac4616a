// Groups from the directory: the Google Admin SDK client against the directory double (paging,
// unknown users, refused credentials), and the server deciding profiles with `groups` and admins
// by admin groups from it.
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {DirectoryUnavailable, googleDirectory} from '@bcl/pki-server';
import {DEFAULT_SERVER_POLICY, type GoogleDirectoryDouble, type OidcProvider, type PkiServer, type PostgresServer, startGoogleDirectoryDouble, startOidcProvider, startPkiServer, startPostgres} from '@bcl/testkit';
import {api, login, newCsr} from './support.js';

let directory: GoogleDirectoryDouble;

beforeAll(async () => {
  directory = await startGoogleDirectoryDouble({
    users: ['ann@example.com', 'bob@example.com', 'carl@example.com'],
    groups: {'vpn-users@example.com': ['ann@example.com'], 'pki-admins@example.com': ['carl@example.com'], 'g1@example.com': ['ann@example.com'], 'g2@example.com': ['ann@example.com']},
    pageSize: 2,
  });
});
afterAll(async () => directory?.stop());

describe('the Admin SDK Directory client', () => {
  const client = () => googleDirectory({serviceAccountKeyFile: directory.serviceAccountKeyFile, subject: directory.subject, baseUrl: directory.url, cacheMs: 60_000, configFile: 'test'});

  it('lists a person\'s groups across pages, with one token, and caches them', async () => {
    const d = client();
    const before = directory.requests.length;
    expect((await d.groupsOf('Ann@example.com')).sort()).toEqual(['g1@example.com', 'g2@example.com', 'vpn-users@example.com']);
    const calls = directory.requests.slice(before);
    expect(calls.filter((r) => r.path === '/token')).toHaveLength(1);
    expect(calls.filter((r) => r.path === '/admin/directory/v1/groups').map((r) => r.query.userKey)).toEqual(['ann@example.com', 'ann@example.com']);
    await d.groupsOf('ann@example.com');
    expect(directory.requests.length).toBe(before + calls.length);
  });

  it('an unknown user is in no group (404), a person in none has none', async () => {
    expect(await client().groupsOf('nobody@example.com')).toEqual([]);
    expect(await client().groupsOf('bob@example.com')).toEqual([]);
  });

  it('a service account without delegation for that admin is "unavailable", not "no groups"', async () => {
    const d = googleDirectory({serviceAccountKeyFile: directory.serviceAccountKeyFile, subject: 'someone-else@example.com', baseUrl: directory.url, cacheMs: 0, configFile: 'test'});
    await expect(d.groupsOf('ann@example.com')).rejects.toThrow(DirectoryUnavailable);
    await expect(d.groupsOf('ann@example.com')).rejects.toThrow(/unauthorized_client/);
  });
});

describe('the server with the directory', () => {
  let pg: PostgresServer;
  let oidc: OidcProvider;
  let server: PkiServer;
  beforeAll(async () => {
    pg = await startPostgres();
    oidc = await startOidcProvider({
      users: [
        {sub: '1', email: 'ann@example.com', hd: 'example.com'},
        {sub: '2', email: 'bob@example.com', hd: 'example.com'},
        {sub: '3', email: 'carl@example.com', hd: 'example.com'},
      ],
    });
    server = await startPkiServer({
      postgres: pg,
      oidc,
      policy: DEFAULT_SERVER_POLICY.replace('    description: OpenVPN client\n', '    description: OpenVPN client\n    groups: [vpn-users@example.com]\n'),
      extraConfig: `directory:\n  type: google\n  serviceAccountKey: ${directory.serviceAccountKeyFile}\n  subject: ${directory.subject}\n  baseUrl: ${directory.url}\nadmins: {groups: [pki-admins@example.com]}\n`,
    });
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    await oidc?.stop();
    await pg?.stop();
  });

  it('a profile with groups is issued to members only; others get a plain reason (403 not_in_group)', async () => {
    const ann = await login(oidc, server, 'ann@example.com');
    const bob = await login(oidc, server, 'bob@example.com');
    expect((await api(server.url, '/v1/requests', {token: ann, json: {csr: (await newCsr('ann@example.com')).csr, profile: 'vpn'}})).status).toBe(201);
    const refused = await api(server.url, '/v1/requests', {token: bob, json: {csr: (await newCsr('bob@example.com')).csr, profile: 'vpn'}});
    expect(refused.status).toBe(403);
    expect(refused.json.error).toMatchObject({code: 'not_in_group', message: 'profile vpn is for members of vpn-users@example.com; bob@example.com is in none of them'});
    expect((await api(server.url, '/v1/requests', {token: bob, json: {csr: (await newCsr('bob@example.com')).csr, profile: 'client'}})).status).toBe(201);
  });

  it('members of an admin group are admins', async () => {
    const carl = await api(server.url, '/v1/sessions', {json: {idToken: await oidc.mintIdToken({user: 'carl@example.com'})}});
    expect(carl.json.user).toMatchObject({admin: true, groups: ['pki-admins@example.com']});
    expect((await api(server.url, '/v1/admin/status', {token: carl.json.token})).status).toBe(200);
    const ann = await login(oidc, server, 'ann@example.com');
    expect((await api(server.url, '/v1/admin/status', {token: ann})).status).toBe(403);
  });
});
