/**
 * Google's Admin SDK Directory API: `GET /admin/directory/v1/groups?userKey=<email>` (paged with
 * nextPageToken), authorized by a service account with domain-wide delegation: a JWT signed with
 * its key (RFC 7523 bearer grant, `sub` = the admin it acts for, the read-only group scope)
 * exchanged at its token_uri for an access token. jose signs the assertion: Google's own client
 * library would bring gaxios, gtoken and their transport for two HTTP calls.
 */
import {readFileSync} from 'node:fs';
import {importPKCS8, SignJWT} from 'jose';
import {z} from 'zod';
import {ConfigError} from '../config.js';
import {type Directory, DirectoryUnavailable} from './index.js';

export const DIRECTORY_SCOPE = 'https://www.googleapis.com/auth/admin.directory.group.readonly';

const serviceAccountSchema = z.object({
  type: z.literal('service_account'),
  client_email: z.email(),
  private_key: z.string().includes('PRIVATE KEY'),
  private_key_id: z.string().optional(),
  token_uri: z.url().default('https://oauth2.googleapis.com/token'),
});

export interface GoogleDirectoryOptions {
  serviceAccountKeyFile: string;
  subject: string;
  baseUrl?: string | undefined;
  cacheMs: number;
  configFile: string;
  now?: () => Date;
  fetch?: typeof fetch;
}

const groupsPage = z.object({groups: z.array(z.object({email: z.string()})).optional(), nextPageToken: z.string().optional()});

export function googleDirectory(o: GoogleDirectoryOptions): Directory {
  let account: z.output<typeof serviceAccountSchema>;
  try {
    account = serviceAccountSchema.parse(JSON.parse(readFileSync(o.serviceAccountKeyFile, 'utf8')));
  } catch (error) {
    throw new ConfigError(`${o.configFile}: directory.serviceAccountKey: ${o.serviceAccountKeyFile} is not a Google service account key (JSON with type, client_email, private_key): ${(error as Error).message.split('\n')[0]}`, o.configFile);
  }
  const base = (o.baseUrl ?? 'https://admin.googleapis.com').replace(/\/$/, '');
  const now = o.now ?? (() => new Date());
  const http = o.fetch ?? fetch;
  let token: {value: string; until: number} | undefined;
  const cache = new Map<string, {groups: string[]; until: number}>();

  async function accessToken(): Promise<string> {
    if (token && token.until > now().getTime()) return token.value;
    const key = await importPKCS8(account.private_key, 'RS256');
    const iat = Math.floor(now().getTime() / 1000);
    const assertion = await new SignJWT({scope: DIRECTORY_SCOPE})
      .setProtectedHeader({alg: 'RS256', typ: 'JWT', ...(account.private_key_id ? {kid: account.private_key_id} : {})})
      .setIssuer(account.client_email)
      .setSubject(o.subject)
      .setAudience(account.token_uri)
      .setIssuedAt(iat)
      .setExpirationTime(iat + 3600)
      .sign(key);
    const res = await http(account.token_uri, {
      method: 'POST',
      headers: {'content-type': 'application/x-www-form-urlencoded'},
      body: new URLSearchParams({grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion}).toString(),
    }).catch((error: Error) => {
      throw new DirectoryUnavailable(`the directory's token endpoint ${account.token_uri} is unreachable: ${error.message}`);
    });
    const body = (await res.json().catch(() => ({}))) as {access_token?: string; expires_in?: number; error?: string; error_description?: string};
    if (!res.ok || !body.access_token) throw new DirectoryUnavailable(`the directory refused the service account ${account.client_email}: ${res.status} ${body.error ?? ''} ${body.error_description ?? ''}`.trim());
    token = {value: body.access_token, until: now().getTime() + Math.max(0, (body.expires_in ?? 3600) - 60) * 1000};
    return token.value;
  }

  return {
    async groupsOf(email) {
      const who = email.toLowerCase();
      const hit = cache.get(who);
      if (hit && hit.until > now().getTime()) return hit.groups;
      const groups: string[] = [];
      let pageToken: string | undefined;
      do {
        const url = new URL(`${base}/admin/directory/v1/groups`);
        url.searchParams.set('userKey', who);
        url.searchParams.set('maxResults', '200');
        if (pageToken) url.searchParams.set('pageToken', pageToken);
        const res = await http(url, {headers: {authorization: `Bearer ${await accessToken()}`, accept: 'application/json'}}).catch((error: Error) => {
          throw new DirectoryUnavailable(`the directory ${base} is unreachable: ${error.message}`);
        });
        // An unknown user is a member of nothing (Google: 404 "Resource Not Found: userKey").
        if (res.status === 404) break;
        if (res.status === 401) token = undefined;
        if (!res.ok) {
          const text = await res.text().catch(() => '');
          throw new DirectoryUnavailable(`the directory answered ${res.status} for the groups of ${who}: ${text.slice(0, 200)}`);
        }
        const page = groupsPage.parse(await res.json());
        groups.push(...(page.groups ?? []).map((g) => g.email.toLowerCase()));
        pageToken = page.nextPageToken;
      } while (pageToken);
      cache.set(who, {groups, until: now().getTime() + o.cacheMs});
      return groups;
    },
  };
}
