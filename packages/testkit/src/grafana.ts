import {randomBytes} from 'node:crypto';
import {createServer, type IncomingMessage} from 'node:http';
import type {AddressInfo} from 'node:net';

/**
 * A Grafana HTTP API double (Grafana 11/12), for the endpoints `svctl dashboard --push` and deploy
 * annotations use. Grafana runs as a Go server with its own database and cannot be installed
 * from the registries here; docs/testing.md lists what this double covers.
 *
 * - Auth: `Authorization: Bearer <service account token>`; an unknown token is 401 "Invalid API
 *   key", none is 401 "Unauthorized"; a Viewer token is 403 "Access denied" on every write, naming
 *   the permission needed.
 * - Folders: GET /api/folders, GET /api/folders/<uid> (404 when absent), POST /api/folders
 *   ({uid, title}; 409 when the uid or the title exists), GET /api/search?type=dash-folder&query=.
 * - Dashboards: POST /api/dashboards/db ({dashboard, folderUid, overwrite, message}) creates or
 *   updates by uid, bumping `version`; 412 version-mismatch when not overwriting a newer
 *   dashboard; 400 for an empty title or an unknown folder. GET /api/dashboards/uid/<uid>.
 * - Annotations: POST /api/annotations, GET /api/annotations?tags=.
 */
export interface GrafanaDouble {
  url: string;
  /** An Editor service account token. */
  token: string;
  /** A Viewer token: reads only. */
  viewerToken: string;
  folders: Map<string, {id: number; uid: string; title: string}>;
  dashboards: Map<string, {dashboard: Record<string, unknown>; folderUid: string; version: number; messages: string[]}>;
  annotations: {id: number; time: number; tags: string[]; text: string; dashboardUID?: string}[];
  requests: {method: string; path: string; status: number}[];
  failNext(match: {method?: string; path: RegExp; status?: number}): void;
  stop(): Promise<void>;
}

export async function startGrafanaDouble(): Promise<GrafanaDouble> {
  const token = `glsa_${randomBytes(16).toString('hex')}_${randomBytes(4).toString('hex')}`;
  const viewerToken = `glsa_${randomBytes(16).toString('hex')}_${randomBytes(4).toString('hex')}`;
  const folders = new Map<string, {id: number; uid: string; title: string}>();
  const dashboards = new Map<string, {dashboard: Record<string, unknown>; folderUid: string; version: number; messages: string[]; id: number}>();
  const annotations: GrafanaDouble['annotations'] = [];
  const requests: GrafanaDouble['requests'] = [];
  const failures: {method?: string; path: RegExp; status: number}[] = [];
  let nextId = 1;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seen = {method: req.method ?? 'GET', path: req.url ?? '/', status: 0};
      requests.push(seen);
      const send = (status: number, body: unknown) => {
        seen.status = status;
        res.writeHead(status, {'content-type': 'application/json', 'cache-control': 'no-store'});
        res.end(JSON.stringify(body));
      };
      try {
        handle(req, Buffer.concat(chunks).toString('utf8'), send);
      } catch (error) {
        send(500, {message: `internal error: ${(error as Error).message}`, messageId: 'internal', statusCode: 500, traceID: ''});
      }
    });
  });

  function handle(req: IncomingMessage, body: string, send: (status: number, body: unknown) => void): void {
    const url = new URL(req.url ?? '/', 'http://double');
    const method = req.method ?? 'GET';
    const path = url.pathname.replace(/\/+$/, '');
    const injected = failures.find((f) => (!f.method || f.method === method) && f.path.test(path));
    if (injected) {
      failures.splice(failures.indexOf(injected), 1);
      return send(injected.status, {message: 'Internal Server Error', messageId: 'internal', statusCode: injected.status, traceID: ''});
    }
    if (path === '/api/health') return send(200, {database: 'ok', version: '12.1.0', commit: 'double'});

    const auth = req.headers.authorization;
    if (!auth) return send(401, {message: 'Unauthorized', messageId: 'auth.unauthorized', statusCode: 401, traceID: ''});
    const bearer = /^Bearer (.+)$/.exec(auth)?.[1];
    if (bearer !== token && bearer !== viewerToken) return send(401, {message: 'Invalid API key', messageId: 'api-key.invalid', statusCode: 401, traceID: ''});
    const canWrite = bearer === token;
    const denied = (permission: string) =>
      send(403, {accessErrorId: `ACE${randomBytes(5).toString('hex')}`, message: `You'll need additional permissions to perform this action. Permissions needed: ${permission}`, title: 'Access denied'});
    const json = <T>() => {
      try {
        return JSON.parse(body) as T;
      } catch {
        return undefined;
      }
    };

    if (path === '/api/folders' && method === 'GET') return send(200, [...folders.values()].map((f) => ({id: f.id, uid: f.uid, title: f.title})));
    if (path === '/api/folders' && method === 'POST') {
      if (!canWrite) return denied('folders:create');
      const input = json<{uid?: string; title?: string}>();
      if (!input?.title) return send(400, {message: 'folder title cannot be empty', messageId: 'folder.title-empty', statusCode: 400});
      const uid = input.uid ?? randomBytes(7).toString('hex');
      if (!/^[a-zA-Z0-9_-]{1,40}$/.test(uid)) return send(400, {message: 'uid contains illegal characters', messageId: 'folder.uid-invalid', statusCode: 400});
      if (folders.has(uid)) return send(409, {message: 'a folder with the same uid already exists', status: 'uid-exists'});
      if ([...folders.values()].some((f) => f.title === input.title)) return send(409, {message: 'a folder with the same name already exists', status: 'name-exists'});
      const folder = {id: nextId++, uid, title: input.title};
      folders.set(uid, folder);
      return send(200, {...folder, url: `/dashboards/f/${uid}/${slug(folder.title)}`, hasAcl: false, canSave: true, canEdit: true, canAdmin: true, canDelete: true, version: 1, created: new Date().toISOString(), updated: new Date().toISOString()});
    }
    const folderMatch = /^\/api\/folders\/([^/]+)$/.exec(path);
    if (folderMatch && method === 'GET') {
      const folder = folders.get(decodeURIComponent(folderMatch[1]!));
      if (!folder) return send(404, {message: 'folder not found', messageId: 'folder.notFound', statusCode: 404, traceID: ''});
      return send(200, {...folder, url: `/dashboards/f/${folder.uid}/${slug(folder.title)}`, version: 1});
    }
    if (path === '/api/search' && method === 'GET') {
      const query = (url.searchParams.get('query') ?? '').toLowerCase();
      const type = url.searchParams.get('type');
      const hits: Record<string, unknown>[] = [];
      if (!type || type === 'dash-folder') {
        for (const f of folders.values()) if (f.title.toLowerCase().includes(query)) hits.push({id: f.id, uid: f.uid, title: f.title, type: 'dash-folder', uri: `db/${slug(f.title)}`, url: `/dashboards/f/${f.uid}/${slug(f.title)}`, tags: [], isStarred: false});
      }
      if (!type || type === 'dash-db') {
        for (const d of dashboards.values()) {
          const title = String(d.dashboard.title ?? '');
          if (title.toLowerCase().includes(query)) hits.push({id: d.id, uid: d.dashboard.uid, title, type: 'dash-db', url: `/d/${d.dashboard.uid}/${slug(title)}`, folderUid: d.folderUid, tags: d.dashboard.tags ?? []});
        }
      }
      return send(200, hits);
    }
    if (path === '/api/dashboards/db' && method === 'POST') {
      if (!canWrite) return denied('dashboards:create');
      const input = json<{dashboard?: Record<string, unknown>; folderUid?: string; overwrite?: boolean; message?: string}>();
      if (!input?.dashboard) return send(400, {message: 'bad request data', messageId: 'dashboard.bad-request', statusCode: 400});
      const d = input.dashboard;
      if (typeof d.title !== 'string' || !d.title.trim()) return send(400, {message: 'Dashboard title cannot be empty', status: 'empty-name'});
      if (input.folderUid && !folders.has(input.folderUid)) return send(400, {message: 'folder not found', status: 'folder-not-found'});
      const uid = typeof d.uid === 'string' && d.uid ? d.uid : randomBytes(7).toString('hex');
      if (!/^[a-zA-Z0-9_-]{1,40}$/.test(uid)) return send(400, {message: 'uid contains illegal characters', status: 'invalid-uid'});
      const existing = dashboards.get(uid);
      if (existing && !input.overwrite && d.version !== existing.version) {
        return send(412, {message: 'The dashboard has been changed by someone else', status: 'version-mismatch'});
      }
      const sameTitle = [...dashboards.values()].find((x) => x.dashboard.uid !== uid && x.folderUid === (input.folderUid ?? '') && x.dashboard.title === d.title);
      if (sameTitle && !input.overwrite) return send(412, {message: 'A dashboard with the same name in the folder already exists', status: 'name-exists'});
      const version = (existing?.version ?? 0) + 1;
      const id = existing?.id ?? nextId++;
      dashboards.set(uid, {dashboard: {...d, id, uid, version}, folderUid: input.folderUid ?? '', version, messages: [...(existing?.messages ?? []), input.message ?? ''], id});
      return send(200, {id, uid, url: `/d/${uid}/${slug(d.title)}`, status: 'success', version, slug: slug(d.title), folderUid: input.folderUid ?? ''});
    }
    const dashMatch = /^\/api\/dashboards\/uid\/([^/]+)$/.exec(path);
    if (dashMatch && method === 'GET') {
      const entry = dashboards.get(decodeURIComponent(dashMatch[1]!));
      if (!entry) return send(404, {message: 'Dashboard not found', messageId: 'dashboard.notFound', statusCode: 404, traceID: ''});
      const folder = folders.get(entry.folderUid);
      return send(200, {dashboard: entry.dashboard, meta: {type: 'db', slug: slug(String(entry.dashboard.title)), url: `/d/${entry.dashboard.uid}/${slug(String(entry.dashboard.title))}`, version: entry.version, folderUid: entry.folderUid, folderTitle: folder?.title ?? 'General', canSave: canWrite}});
    }
    if (path === '/api/annotations' && method === 'POST') {
      if (!canWrite) return denied('annotations:create');
      const input = json<{time?: number; tags?: string[]; text?: string; dashboardUID?: string}>();
      if (!input?.text) return send(400, {message: 'Failed to save annotation: text is required', statusCode: 400});
      const id = nextId++;
      annotations.push({id, time: input.time ?? Date.now(), tags: input.tags ?? [], text: input.text, ...(input.dashboardUID ? {dashboardUID: input.dashboardUID} : {})});
      return send(200, {message: 'Annotation added', id});
    }
    if (path === '/api/annotations' && method === 'GET') {
      const tags = url.searchParams.getAll('tags');
      return send(200, annotations.filter((a) => tags.every((t) => a.tags.includes(t))));
    }
    return send(404, {message: 'Not found', statusCode: 404});
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    viewerToken,
    folders,
    dashboards,
    annotations,
    requests,
    failNext(match) {
      failures.push({...(match.method ? {method: match.method} : {}), path: match.path, status: match.status ?? 500});
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function slug(title: string): string {
  return title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
}
