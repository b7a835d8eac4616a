import type {Env} from '@bcl/core';
import {BclError, denied, ExitCode, interrupted, unavailable} from '@bcl/core/errors';
import type {HttpClient, TlsOptions} from '@bcl/core/http';
import {nodeHttpAgent} from '@bcl/core/http-agent';
import type {JenkinsServer} from './server.js';

/** A queue item as Jenkins reports it (hudson.model.Queue$*Item). */
export interface QueueItem {
  id: number;
  why: string | null;
  cancelled: boolean;
  executable: {number: number; url: string} | null;
}

/** A build (run) as Jenkins reports it. */
export interface BuildInfo {
  number: number;
  url: string;
  building: boolean;
  result: BuildResult | null;
  durationMs: number;
  timestamp: number;
  queueId?: number;
  /** The commit built: the git plugin's lastBuiltRevision, else the GIT_SHA parameter. */
  gitSha: string | null;
  parameters: Record<string, string>;
}

export type BuildResult = 'SUCCESS' | 'FAILURE' | 'UNSTABLE' | 'ABORTED' | 'NOT_BUILT';

/** One answer of progressiveText: the bytes from `start`, the new size, and whether more will come. */
export interface LogChunk {
  bytes: Buffer;
  size: number | undefined;
  more: boolean;
}

interface PapiError extends Error {
  statusCode?: number;
  code?: string;
  notFound?: boolean;
  res?: {statusCode: number; headers: Record<string, string | string[] | undefined>; body?: unknown};
  cause?: unknown;
}

export interface JenkinsConnectOptions {
  /** For the proxies (HTTPS_PROXY/HTTP_PROXY/NO_PROXY), as bcl's HttpClient reads them. */
  env: Env;
  /** bcl's HTTP client (ctx.http({retries: 0}): retries are JenkinsApi's): the console log is read through it. */
  http: HttpClient;
  tls?: TlsOptions;
  timeoutMs?: number;
  retries?: number;
  backoffMs?: number;
  signal?: AbortSignal | undefined;
}

/**
 * Jenkins through the npm `jenkins` client (CSRF crumb and session cookie included) over an
 * agent with bcl's proxy and TLS settings, with its errors turned into BclErrors a person can act
 * on. Reads are retried on 5xx and network errors; writes are not (a retried buildWithParameters
 * would start a second build).
 */
export class JenkinsApi {
  private constructor(
    readonly server: JenkinsServer,
    private readonly client: InstanceType<typeof import('jenkins')>,
    private readonly http: HttpClient,
    private readonly options: {retries: number; backoffMs: number; timeoutMs: number; authorization: string; signal?: AbortSignal | undefined},
  ) {}

  static async connect(server: JenkinsServer, options: JenkinsConnectOptions): Promise<JenkinsApi> {
    const {default: Jenkins} = await import('jenkins');
    const authorization = `Basic ${Buffer.from(`${server.user}:${server.token}`).toString('base64')}`;
    const timeoutMs = options.timeoutMs ?? 30_000;
    const agent = nodeHttpAgent(server.url, {env: options.env, ...(options.tls ? {tls: options.tls} : {})});
    const client = new Jenkins({baseUrl: server.url, crumbIssuer: true, headers: {authorization}, timeout: timeoutMs, agent});
    return new JenkinsApi(server, client, options.http, {retries: options.retries ?? 3, backoffMs: options.backoffMs ?? 300, timeoutMs, authorization, signal: options.signal});
  }

  jobUrl(job: string): string {
    return `${this.server.url}/job/${encodeURIComponent(job)}/`;
  }

  /** The job's config.xml, or undefined when the job does not exist. */
  async jobConfig(job: string): Promise<string | undefined> {
    try {
      return await this.read(`read the configuration of job ${job}`, () => this.client.job.config(job));
    } catch (error) {
      if (error instanceof BclError && error.code === 'jenkins.not_found') return undefined;
      throw error;
    }
  }

  async createJob(job: string, xml: string): Promise<void> {
    await this.write(`create job ${job}`, () => this.client.job.create(job, xml));
  }

  async updateJobConfig(job: string, xml: string): Promise<void> {
    await this.write(`update the configuration of job ${job}`, () => this.client.job.config(job, xml));
  }

  /** Triggers buildWithParameters; returns the queue item id from the Location header. */
  async trigger(job: string, parameters: Record<string, string>): Promise<number> {
    const id = await this.write(`start a build of job ${job}`, () => this.client.job.build({name: job, parameters}));
    if (typeof id !== 'number' || !Number.isFinite(id)) {
      throw new BclError('jenkins.protocol', `Jenkins accepted the build of job ${job} but gave no queue item (no Location header)`, ExitCode.unexpected, {
        hint: 'Is the URL that of a Jenkins controller (not a proxy that drops headers)?',
      });
    }
    return id;
  }

  /** A queue item; undefined once Jenkins forgot it (items are kept about five minutes after leaving). */
  async queueItem(id: number): Promise<QueueItem | undefined> {
    try {
      const raw = await this.read(`read queue item ${id}`, () => this.client.queue.item(id));
      const exe = raw.executable as {number?: number; url?: string} | null | undefined;
      return {
        id,
        why: typeof raw.why === 'string' ? raw.why : null,
        cancelled: raw.cancelled === true,
        executable: exe && typeof exe.number === 'number' ? {number: exe.number, url: String(exe.url ?? '')} : null,
      };
    } catch (error) {
      if (error instanceof BclError && error.code === 'jenkins.not_found') return undefined;
      throw error;
    }
  }

  async build(job: string, number: number): Promise<BuildInfo> {
    const raw = await this.read(`read build #${number} of job ${job}`, () => this.client.build.get({name: job, number}));
    return toBuildInfo(raw);
  }

  /** The newest builds of a job, newest first. */
  async builds(job: string, limit: number): Promise<BuildInfo[]> {
    const tree = `builds[number,url,building,result,duration,timestamp,queueId,actions[lastBuiltRevision[SHA1],parameters[name,value]]]{0,${limit}}`;
    const raw = await this.read(`list the builds of job ${job}`, () => this.client.job.get({name: job, tree}));
    return ((raw.builds as Record<string, unknown>[] | undefined) ?? []).map(toBuildInfo);
  }

  /**
   * The console log from byte `start`: GET logText/progressiveText?start=<n> (what the client's
   * log stream POSTs; a GET needs no crumb), through bcl's HTTP client, kept as bytes: X-Text-Size
   * counts bytes, and decoding each answer on its own would break characters split between two.
   */
  async logChunk(job: string, number: number, start: number): Promise<LogChunk> {
    const url = `${this.jobUrl(job)}${number}/logText/progressiveText?start=${start}`;
    return this.read(`read the console log of build #${number} of job ${job}`, async () => {
      const response = await this.http.request(url, {headers: {authorization: this.options.authorization}, timeoutMs: this.options.timeoutMs, ...(this.options.signal ? {signal: this.options.signal} : {})});
      const bytes = await response.bytes();
      if (response.status < 200 || response.status >= 300) {
        throw Object.assign(new Error(`HTTP ${response.status}`), {statusCode: response.status, res: {statusCode: response.status, headers: response.headers, body: bytes}});
      }
      const size = Number(response.header('x-text-size'));
      return {bytes, size: Number.isFinite(size) ? size : undefined, more: response.header('x-more-data') === 'true'};
    });
  }

  private async read<T>(what: string, call: () => Promise<T>): Promise<T> {
    let last: BclError | undefined;
    for (let attempt = 0; attempt <= this.options.retries; attempt++) {
      if (attempt > 0) {
        await sleep(this.options.backoffMs * 2 ** (attempt - 1), this.options.signal);
        // Ctrl-C ends the wait and the retries.
        if (this.options.signal?.aborted) throw interrupted();
      }
      try {
        return await call();
      } catch (error) {
        last = this.translate(what, error);
        if (last.exitCode !== ExitCode.unavailable) throw last;
      }
    }
    throw last!;
  }

  private async write<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw this.translate(what, error);
    }
  }

  /** A client error as the BclError a person can act on; never includes credentials. */
  translate(what: string, error: unknown): BclError {
    const server0 = `Jenkins ${this.server.name} (${this.server.url})`;
    if (error instanceof BclError) {
      // bcl's HTTP client (the console log) names the URL; say which Jenkins, as for the rest.
      if (error.code === 'http.timeout') return unavailable('jenkins.timeout', `${server0} did not answer in time trying to ${what}`, {hint: 'Check that Jenkins is up and reachable.', details: {jenkins: this.server.name, url: this.server.url}});
      if (error.code === 'http.unreachable') return unavailable('jenkins.unreachable', `cannot reach ${server0} to ${what}: ${error.message}`, {hint: `Check svctl.jenkins.${this.server.name}.url and your network.`, details: {jenkins: this.server.name, url: this.server.url}});
      return error;
    }
    const e = error as PapiError;
    const status = e.res?.statusCode ?? e.statusCode;
    const headers = e.res?.headers ?? {};
    const server = `Jenkins ${this.server.name} (${this.server.url})`;
    const details = {jenkins: this.server.name, url: this.server.url, status};
    if (status === 401) {
      return denied('jenkins.unauthenticated', `${server} rejected the API token of user ${this.server.user} (401) trying to ${what}`, {
        hint: `Check that svctl.jenkins.${this.server.name}.tokenEnv or .tokenFile holds a current API token of ${this.server.user}.`,
        details,
      });
    }
    if (status === 403) {
      const body = bodyText(e.res?.body);
      if (/No valid crumb/i.test(body)) {
        return denied('jenkins.crumb_rejected', `${server} refused the CSRF crumb trying to ${what} (403)`, {
          hint: 'A proxy in front of Jenkins may drop the session cookie that must accompany the crumb.',
          details,
        });
      }
      const permission = header(headers, 'x-required-permission');
      const as = header(headers, 'x-you-are-authenticated-as');
      return denied('jenkins.forbidden', `${server} does not allow ${as ?? this.server.user} to ${what}${permission ? ` (missing permission ${permission})` : ''} (403)`, {
        hint: 'Ask a Jenkins administrator for the permission, or use a token of a user that has it.',
        details: {...details, permission},
      });
    }
    if (status === 404 || e.notFound) {
      return new BclError('jenkins.not_found', `${server} has nothing at the address used to ${what} (404)`, ExitCode.conflict, {
        hint: 'Check the job name and svctl.jenkins URL; run `svctl pipeline sync` to create the job.',
        details,
      });
    }
    if (status !== undefined && status >= 500) {
      return unavailable('jenkins.server_error', `${server} failed (${status}) trying to ${what}`, {hint: 'Jenkins had an internal error; look at its system log, then retry.', details});
    }
    if (status !== undefined) {
      const xError = header(headers, 'x-error');
      return new BclError('jenkins.request_failed', `${server} answered ${status} trying to ${what}${xError ? `: ${xError}` : ''}`, ExitCode.unexpected, {details});
    }
    const code = e.code ?? (e.cause as {code?: string} | undefined)?.code;
    if (/timed out/i.test(e.message ?? '') || code === 'ETIMEDOUT') {
      return unavailable('jenkins.timeout', `${server} did not answer in time trying to ${what}`, {hint: 'Check that Jenkins is up and reachable.', details});
    }
    return unavailable('jenkins.unreachable', `cannot reach ${server} to ${what}: ${code ?? e.message}`, {
      hint: `Check svctl.jenkins.${this.server.name}.url and your network.`,
      details: {...details, code},
    });
  }
}

function toBuildInfo(raw: Record<string, unknown>): BuildInfo {
  const actions = (raw.actions as Record<string, unknown>[] | undefined) ?? [];
  const parameters: Record<string, string> = {};
  let gitSha: string | null = null;
  for (const action of actions) {
    if (!action) continue;
    for (const p of (action.parameters as {name?: string; value?: unknown}[] | undefined) ?? []) {
      if (p.name) parameters[p.name] = String(p.value ?? '');
    }
    const revision = action.lastBuiltRevision as {SHA1?: string} | undefined;
    if (revision?.SHA1 && !gitSha) gitSha = revision.SHA1;
  }
  return {
    number: Number(raw.number),
    url: String(raw.url ?? ''),
    building: raw.building === true,
    result: (raw.result as BuildResult | null | undefined) ?? null,
    durationMs: Number(raw.duration ?? 0),
    timestamp: Number(raw.timestamp ?? 0),
    ...(typeof raw.queueId === 'number' ? {queueId: raw.queueId} : {}),
    gitSha: gitSha ?? parameters.GIT_SHA ?? null,
    parameters,
  };
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function bodyText(body: unknown): string {
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  return typeof body === 'string' ? body : '';
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, {once: true});
  });
}
