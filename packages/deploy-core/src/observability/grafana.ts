import {BclError, conflict, denied, ExitCode, invalidInput, unavailable} from '@bcl/core/errors';
import type {HttpClient, HttpResponse} from '@bcl/core/http';
import {DEPLOY_TAGS} from './dashboard.js';

/** Grafana from `svctl.grafana`, with its service account token resolved. */
export interface GrafanaServer {
  url: string;
  token: string;
}

export interface PushOutcome {
  grafana: string;
  folder: {uid: string; title: string; created: boolean};
  uid: string;
  url: string;
  version: number;
}

/** The folder of a team's dashboards: uid "svctl-team-<team>" (at most 40 characters), title the team. */
export function teamFolder(team: string): {uid: string; title: string} {
  return {uid: `svctl-team-${team}`.slice(0, 40), title: team};
}

/**
 * Grafana's HTTP API for dashboards: the team's folder is found (by uid, else by title) or
 * created, then the dashboard is saved with overwrite, so a push always makes Grafana show
 * what service.yaml says.
 */
export class GrafanaApi {
  constructor(
    private readonly http: HttpClient,
    readonly server: GrafanaServer,
  ) {}

  async pushDashboard(dashboard: Record<string, unknown>, team: string, message: string): Promise<PushOutcome> {
    const folder = await this.ensureFolder(team);
    const res = await this.call('POST', '/api/dashboards/db', 'save the dashboard', {dashboard: {...dashboard, id: null}, folderUid: folder.uid, overwrite: true, message});
    const saved = (await res.json()) as {uid: string; url: string; version: number};
    return {grafana: this.server.url, folder, uid: saved.uid, url: new URL(saved.url, `${this.server.url}/`).toString(), version: saved.version};
  }

  /** Marks a deploy on the service's dashboards (the "Deploys" annotation of svctl dashboards). */
  async annotateDeploy(input: {service: string; environment: string; image: string; revision?: number | null; time?: number}): Promise<number> {
    const text = `Deployed ${input.image} to ${input.environment}${input.revision ? ` (revision ${input.revision})` : ''}`;
    const res = await this.call('POST', '/api/annotations', 'add a deploy annotation', {time: input.time ?? Date.now(), tags: [...DEPLOY_TAGS(input.service), `env:${input.environment}`], text});
    return ((await res.json()) as {id: number}).id;
  }

  private async ensureFolder(team: string): Promise<{uid: string; title: string; created: boolean}> {
    const wanted = teamFolder(team);
    const byUid = await this.call('GET', `/api/folders/${encodeURIComponent(wanted.uid)}`, `read folder ${wanted.uid}`, undefined, [404]);
    if (byUid.status === 200) {
      const f = (await byUid.json()) as {uid: string; title: string};
      return {uid: f.uid, title: f.title, created: false};
    }
    await byUid.text();
    // A folder the team made by hand, with the team's name, is used as it is.
    const search = await this.call('GET', `/api/search?type=dash-folder&query=${encodeURIComponent(team)}`, 'search folders');
    const hit = ((await search.json()) as {uid: string; title: string}[]).find((f) => f.title === team);
    if (hit) return {uid: hit.uid, title: hit.title, created: false};
    const created = await this.call('POST', '/api/folders', `create folder ${team}`, wanted, [409]);
    if (created.status === 409) {
      // Created meanwhile by someone else: use theirs.
      await created.text();
      const again = await this.call('GET', `/api/folders/${encodeURIComponent(wanted.uid)}`, `read folder ${wanted.uid}`);
      const f = (await again.json()) as {uid: string; title: string};
      return {uid: f.uid, title: f.title, created: false};
    }
    const f = (await created.json()) as {uid: string; title: string};
    return {uid: f.uid, title: f.title, created: true};
  }

  private async call(method: string, path: string, what: string, body?: unknown, allowed: number[] = []): Promise<HttpResponse> {
    const res = await this.http.request(`${this.server.url}${path}`, {
      method,
      headers: {authorization: `Bearer ${this.server.token}`, accept: 'application/json'},
      ...(body === undefined ? {} : {json: body}),
    });
    if ((res.status >= 200 && res.status < 300) || allowed.includes(res.status)) return res;
    const text = await res.text().catch(() => '');
    let message = text;
    try {
      message = (JSON.parse(text) as {message?: string}).message ?? text;
    } catch {
      // not JSON: keep the text
    }
    const where = `Grafana (${this.server.url})`;
    const details = {grafana: this.server.url, status: res.status, path};
    if (res.status === 401) return Promise.reject(denied('grafana.unauthenticated', `${where} rejected the token trying to ${what} (401: ${message})`, {hint: 'Check that svctl.grafana.tokenEnv or .tokenFile holds a current service account token.', details}));
    if (res.status === 403) return Promise.reject(denied('grafana.forbidden', `${where} does not allow the token to ${what} (403: ${message})`, {hint: 'The service account needs the Editor role, or the permissions named.', details}));
    if (res.status === 412 || res.status === 409) return Promise.reject(conflict('grafana.conflict', `${where} refused to ${what} (${res.status}: ${message})`, {details}));
    if (res.status === 400) return Promise.reject(invalidInput('grafana.rejected', `${where} rejected the request to ${what} (400: ${message})`, {details}));
    if (res.status >= 500) return Promise.reject(unavailable('grafana.server_error', `${where} failed (${res.status}) trying to ${what}`, {details}));
    return Promise.reject(new BclError('grafana.request_failed', `${where} answered ${res.status} trying to ${what}: ${message}`, ExitCode.unexpected, {details}));
  }
}
