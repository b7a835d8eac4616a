import {generateKeyPairSync, randomBytes, verify} from 'node:crypto';
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';
import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {tempDir} from './temp.js';

/**
 * A double of Google's Admin SDK Directory API for group memberships, and of the OAuth 2.0
 * token endpoint a service account with domain-wide delegation uses (Google cannot be reached
 * in tests). It follows the real API for what the PKI server uses:
 *
 * - POST /token with `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>`
 *   (RFC 7523): the JWT is RS256-signed with the service account's key (`kid` its
 *   private_key_id), `iss` its client_email, `aud` the token_uri, `scope` the directory scope,
 *   `sub` the Workspace admin it acts for, `exp` at most an hour after `iat`. Answers
 *   `{access_token, expires_in: 3599, token_type: "Bearer"}`, or 400 `invalid_grant`
 *   ("Invalid JWT Signature.", "Invalid JWT: Token must be a short-lived token...") and 401
 *   `unauthorized_client` (no delegation for that admin or scope), as Google does.
 * - GET /admin/directory/v1/groups?userKey=<email>&maxResults=&pageToken=: the groups the user
 *   is a direct member of, `{kind: "admin#directory#groups", etag, groups: [{kind:
 *   "admin#directory#group", id, etag, email, name, directMembersCount, description,
 *   adminCreated}], nextPageToken?}`; 401 with Google's error body for a missing or unknown
 *   token, 403 for a token without the directory scope, 404 "Resource Not Found: userKey" for
 *   an unknown user.
 */
export interface GoogleDirectoryDouble {
  url: string;
  /** The service account's JSON key file (token_uri pointing at the double). */
  serviceAccountKeyFile: string;
  clientEmail: string;
  /** The admin the service account may act for. */
  subject: string;
  /** Every request, for assertions: method, path, query. */
  requests: {method: string; path: string; query: Record<string, string>}[];
  setGroups(groups: Record<string, readonly string[]>): void;
  stop(): Promise<void>;
}

export const GOOGLE_DIRECTORY_SCOPE = 'https://www.googleapis.com/auth/admin.directory.group.readonly';

export async function startGoogleDirectoryDouble(options: {groups: Record<string, readonly string[]>; users: readonly string[]; subject?: string; pageSize?: number}): Promise<GoogleDirectoryDouble> {
  const dir = tempDir('bcl-google-directory-');
  const {privateKey, publicKey} = generateKeyPairSync('rsa', {modulusLength: 2048});
  const keyId = randomBytes(20).toString('hex');
  const clientEmail = 'pki-server@example-project.iam.gserviceaccount.com';
  const subject = options.subject ?? 'workspace-admin@example.com';
  let groups = options.groups;
  const users = new Set(options.users.map((u) => u.toLowerCase()));
  const tokens = new Map<string, {scope: string; until: number}>();
  const requests: GoogleDirectoryDouble['requests'] = [];
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const tokenUri = `${url}/token`;
  const keyFile = join(dir.path, 'service-account.json');
  writeFileSync(
    keyFile,
    JSON.stringify({
      type: 'service_account',
      project_id: 'example-project',
      private_key_id: keyId,
      private_key: privateKey.export({type: 'pkcs8', format: 'pem'}),
      client_email: clientEmail,
      client_id: '100000000000000000042',
      auth_uri: 'https://accounts.google.com/o/oauth2/auth',
      token_uri: tokenUri,
    }),
    {mode: 0o600},
  );

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, {'content-type': 'application/json; charset=UTF-8'});
    res.end(JSON.stringify(body));
  };
  const apiError = (res: ServerResponse, code: number, message: string, reason: string, status: string, extra: Record<string, string> = {}) =>
    send(res, code, {error: {code, message, errors: [{message: reason === 'authError' ? 'Invalid Credentials' : message, domain: 'global', reason, ...extra}], status}});

  const body = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let text = '';
      req.on('data', (d) => (text += d));
      req.on('end', () => resolve(text));
    });

  async function token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = new URLSearchParams(await body(req));
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return send(res, 400, {error: 'unsupported_grant_type', error_description: 'Invalid grant_type: ' + (form.get('grant_type') ?? '')});
    const parts = (form.get('assertion') ?? '').split('.');
    if (parts.length !== 3) return send(res, 400, {error: 'invalid_grant', error_description: 'Invalid JWT: Failed audience check.'});
    const [h, p, s] = parts as [string, string, string];
    let header: {alg?: string; kid?: string};
    let claims: {iss?: string; aud?: string; scope?: string; sub?: string; iat?: number; exp?: number};
    try {
      header = JSON.parse(Buffer.from(h, 'base64url').toString());
      claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    } catch {
      return send(res, 400, {error: 'invalid_grant', error_description: 'Invalid JWT Signature.'});
    }
    const signed = header.alg === 'RS256' && verify('sha256', Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s, 'base64url'));
    if (!signed || claims.iss !== clientEmail || (header.kid !== undefined && header.kid !== keyId)) return send(res, 400, {error: 'invalid_grant', error_description: 'Invalid JWT Signature.'});
    if (claims.aud !== tokenUri) return send(res, 400, {error: 'invalid_grant', error_description: 'Invalid JWT: Failed audience check. The expected value is ' + tokenUri});
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.iat !== 'number' || typeof claims.exp !== 'number' || claims.exp - claims.iat > 3600 || claims.exp < now || claims.iat > now + 300) {
      return send(res, 400, {error: 'invalid_grant', error_description: 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.'});
    }
    const scopes = (claims.scope ?? '').split(' ');
    if (claims.sub !== subject || !scopes.some((sc) => sc === GOOGLE_DIRECTORY_SCOPE || sc === 'https://www.googleapis.com/auth/admin.directory.group')) {
      return send(res, 401, {error: 'unauthorized_client', error_description: 'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.'});
    }
    const accessToken = `ya29.${randomBytes(48).toString('base64url')}`;
    tokens.set(accessToken, {scope: scopes.join(' '), until: Date.now() + 3599_000});
    send(res, 200, {access_token: accessToken, expires_in: 3599, token_type: 'Bearer'});
  }

  function listGroups(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
    const auth = req.headers.authorization ?? '';
    const t = tokens.get(auth.replace(/^Bearer /, ''));
    if (!auth.startsWith('Bearer ') || !t || t.until < Date.now()) {
      return apiError(res, 401, 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.', 'authError', 'UNAUTHENTICATED', {location: 'Authorization', locationType: 'header'});
    }
    const userKey = (query.get('userKey') ?? '').toLowerCase();
    if (!users.has(userKey)) return apiError(res, 404, 'Resource Not Found: userKey', 'notFound', 'NOT_FOUND');
    const all = Object.entries(groups)
      .filter(([, members]) => members.some((m) => m.toLowerCase() === userKey))
      .map(([email, members], i) => ({kind: 'admin#directory#group', id: `0${(i + 1).toString(16).padStart(14, '0')}`, etag: `"${randomBytes(6).toString('hex')}"`, email, name: email.split('@')[0], directMembersCount: String(members.length), description: '', adminCreated: true}));
    const max = Math.min(Number(query.get('maxResults') ?? '200') || 200, 200, options.pageSize ?? 200);
    const start = query.get('pageToken') ? Number(Buffer.from(query.get('pageToken')!, 'base64url').toString()) : 0;
    const page = all.slice(start, start + max);
    send(res, 200, {kind: 'admin#directory#groups', etag: `"${randomBytes(8).toString('hex')}"`, ...(page.length ? {groups: page} : {}), ...(start + max < all.length ? {nextPageToken: Buffer.from(String(start + max)).toString('base64url')} : {})});
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', url);
    requests.push({method: req.method ?? 'GET', path: u.pathname, query: Object.fromEntries(u.searchParams)});
    if (req.method === 'POST' && u.pathname === '/token') return void token(req, res).catch((error: Error) => send(res, 500, {error: 'internal_failure', error_description: error.message}));
    if (req.method === 'GET' && u.pathname === '/admin/directory/v1/groups') return listGroups(req, res, u.searchParams);
    apiError(res, 404, 'Not Found', 'notFound', 'NOT_FOUND');
  });

  return {
    url,
    serviceAccountKeyFile: keyFile,
    clientEmail,
    subject,
    requests,
    setGroups: (g) => (groups = g),
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      dir.remove();
    },
  };
}
