import {createHash, randomBytes} from 'node:crypto';
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';

/**
 * A Jenkins REST double: the endpoints and headers of a Jenkins 2.x controller that the npm
 * `jenkins` client (and svctl) use, answering like the real one. Jenkins (a JVM web app with
 * plugins) cannot be installed here; docs/testing.md lists what this double covers.
 *
 * - CSRF: GET /crumbIssuer/api/json answers a crumb bound to a new session whose JSESSIONID.<id>
 *   cookie comes back in Set-Cookie; every POST needs the crumb header AND that cookie, else 403
 *   "No valid crumb was included in the request" (DefaultCrumbIssuer with session binding).
 * - Auth: HTTP Basic user:apiToken. A wrong token is 401 (WWW-Authenticate), no credentials is
 *   403 for anonymous (X-You-Are-Authenticated-As), a user without a permission is 403.
 * - Jobs: POST /createItem?name= (XML body), GET/POST /job/<name>/config.xml, GET/HEAD
 *   /job/<name>/api/json (with `tree`), POST /job/<name>/buildWithParameters -> 201 + Location of
 *   the queue item.
 * - Queue: /queue/item/<id>/api/json goes WaitingItem (quiet period, `why` counts down) ->
 *   BuildableItem ("Waiting for next available executor") -> LeftItem with `executable`, or a
 *   LeftItem with `cancelled: true`; POST /queue/cancelItem?id= and /queue/item/<id>/cancelQueue.
 * - Builds: /job/<name>/<n>/api/json (building, result, duration, actions with ParametersAction
 *   and the git plugin's BuildData.lastBuiltRevision.SHA1), /job/<name>/<n>/logText/progressiveText
 *   (GET or POST, `start` in query or form body) answering the bytes from `start` with X-Text-Size
 *   and X-More-Data while the build runs, /job/<name>/<n>/stop.
 * - Failure injection: `failNext()` answers a matching request with 500 (or any status).
 */
export interface JenkinsDouble {
  /** Base URL, no trailing slash: http://127.0.0.1:<port> */
  url: string;
  /** The user and API token accepted (more with addUser). */
  user: string;
  token: string;
  addUser(name: string, token: string, permissions?: {build?: boolean; configure?: boolean; read?: boolean}): void;
  /** Jobs by full name: config.xml as stored (the real server adds plugin versions) and builds. */
  job(name: string): DoubleJob | undefined;
  /** How the next build of `job` behaves (queued plans are used in order; default: SUCCESS). */
  planBuild(job: string, plan: BuildPlan): void;
  /** Cancels a queue item as a person would in the UI. */
  cancelQueueItem(id: number): void;
  /** The next request matching method and path answers `status` (default 500), `times` times. */
  failNext(match: {method?: string; path: RegExp; status?: number; times?: number; body?: string}): void;
  /** Every request seen: method, path with query, and selected headers. */
  readonly requests: SeenRequest[];
  /** TCP connections open now (clients' kept-alive ones included: idle ones are kept 30 s, as Jenkins does). */
  connections(): Promise<number>;
  stop(): Promise<void>;
}

export interface SeenRequest {
  method: string;
  path: string;
  status: number;
  user?: string;
  crumb?: string;
  cookie?: string;
}

export interface BuildPlan {
  result?: 'SUCCESS' | 'FAILURE' | 'UNSTABLE' | 'ABORTED';
  /** The console log, written in `pieces` over the build's run time. */
  log?: string | Buffer;
  /** Byte offsets at which the log becomes visible piece by piece (default: 4 equal pieces). */
  pieces?: number[];
  /** Milliseconds between two pieces of log (default 30). */
  stepMs?: number;
  /** Quiet period of the queue item (default 0). */
  quietPeriodMs?: number;
  /** Time waiting for an executor after the quiet period (default 0). */
  executorWaitMs?: number;
  /** Cancel the queue item after this many ms (it never gets an executable). */
  cancelAfterMs?: number;
  /** The commit the git plugin reports as lastBuiltRevision (default: GIT_SHA parameter). */
  sha?: string;
}

export interface DoubleBuild {
  number: number;
  queueId: number;
  parameters: Record<string, string>;
  plan: Required<Pick<BuildPlan, 'result' | 'stepMs'>> & BuildPlan;
  log: Buffer;
  /** How many bytes of the log are written so far. */
  written: number;
  building: boolean;
  result: string | null;
  startedAt: number;
  duration: number;
  sha: string | undefined;
  timer?: NodeJS.Timeout;
}

export interface DoubleJob {
  name: string;
  configXml: string;
  builds: DoubleBuild[];
  nextBuildNumber: number;
  /** How many times config.xml was written (createItem counts as the first). */
  configWrites: number;
}

interface QueueItem {
  id: number;
  job: string;
  parameters: Record<string, string>;
  plan: BuildPlan;
  enteredAt: number;
  quietUntil: number;
  buildableUntil: number;
  cancelled: boolean;
  build?: DoubleBuild;
  timers: NodeJS.Timeout[];
}

interface Session {
  id: string;
  crumb: string;
}

interface UserEntry {
  token: string;
  read: boolean;
  build: boolean;
  configure: boolean;
}

const CRUMB_FIELD = 'Jenkins-Crumb';
const JSON_TYPE = 'application/json;charset=utf-8';

/** Starts the double on 127.0.0.1 with a free port. */
export async function startJenkinsDouble(options: {user?: string; token?: string} = {}): Promise<JenkinsDouble> {
  const users = new Map<string, UserEntry>();
  const user = options.user ?? 'ci-bot';
  const token = options.token ?? `11${randomBytes(16).toString('hex')}`;
  users.set(user, {token, read: true, build: true, configure: true});
  const jobs = new Map<string, DoubleJob>();
  const plans = new Map<string, BuildPlan[]>();
  const queue = new Map<number, QueueItem>();
  const sessions = new Map<string, Session>();
  const failures: {method?: string; path: RegExp; status: number; times: number; body?: string}[] = [];
  const requests: SeenRequest[] = [];
  const cookieName = `JSESSIONID.${randomBytes(4).toString('hex')}`;
  const salt = randomBytes(16).toString('hex');
  let nextQueueId = 1;
  let base = '';

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const seen: SeenRequest = {method: req.method ?? 'GET', path: req.url ?? '/', status: 0};
      requests.push(seen);
      const send = (status: number, payload: string | Buffer = '', headers: Record<string, string | string[]> = {}) => {
        seen.status = status;
        res.writeHead(status, {'x-jenkins': '2.462.3', ...headers});
        res.end(req.method === 'HEAD' ? undefined : payload);
      };
      try {
        handle(req, res, body, seen, send);
      } catch (error) {
        send(500, `<html><body><h2>Oops!</h2><pre>${String(error)}</pre></body></html>`, {'content-type': 'text/html;charset=utf-8'});
      }
    });
  });

  function handle(
    req: IncomingMessage,
    _res: ServerResponse,
    body: Buffer,
    seen: SeenRequest,
    send: (status: number, payload?: string | Buffer, headers?: Record<string, string | string[]>) => void,
  ): void {
    const url = new URL(req.url ?? '/', 'http://double');
    const method = req.method ?? 'GET';
    const path = decodeURIComponent(url.pathname.replace(/\/+$/, '') || '/');

    const injected = failures.find((f) => (!f.method || f.method === method) && f.path.test(url.pathname));
    if (injected) {
      injected.times--;
      if (injected.times <= 0) failures.splice(failures.indexOf(injected), 1);
      return send(injected.status, injected.body ?? '<html><body><h2>HTTP ERROR 500 java.lang.NullPointerException</h2></body></html>', {'content-type': 'text/html;charset=utf-8'});
    }

    // Authentication: HTTP Basic with an API token.
    const auth = req.headers.authorization;
    let who: UserEntry | undefined;
    if (auth) {
      const m = /^Basic (.+)$/i.exec(auth);
      const decoded = m ? Buffer.from(m[1]!, 'base64').toString('utf8') : '';
      const colon = decoded.indexOf(':');
      const name = decoded.slice(0, colon);
      const entry = users.get(name);
      if (colon < 0 || !entry || entry.token !== decoded.slice(colon + 1)) {
        return send(401, `<html><head><title>Error 401 Invalid password/token for user: ${name}</title></head><body><h2>HTTP ERROR 401 Invalid password/token for user: ${name}</h2></body></html>`, {
          'content-type': 'text/html;charset=iso-8859-1',
          'www-authenticate': 'Basic realm="Jenkins"',
        });
      }
      who = entry;
      seen.user = name;
    }
    const forbidden = (permission: string) =>
      send(403, `<html><body>${seen.user ?? 'anonymous'} is missing the ${permission} permission</body></html>`, {
        'content-type': 'text/html;charset=utf-8',
        'x-you-are-authenticated-as': seen.user ?? 'anonymous',
        'x-required-permission': permission,
        'x-permission-implied-by': 'hudson.model.Hudson.Administer',
      });
    if (!who || !who.read) return forbidden('hudson.model.Hudson.Read');

    // CSRF protection: POSTs need the crumb of the session named by the cookie.
    if (method === 'POST') {
      seen.crumb = header(req, CRUMB_FIELD);
      seen.cookie = header(req, 'cookie');
      const sessionId = parseCookies(req.headers.cookie)[cookieName];
      const session = sessionId ? sessions.get(sessionId) : undefined;
      if (!session || seen.crumb !== session.crumb) {
        return send(403, '<html><head><title>Error 403 No valid crumb was included in the request</title></head><body><h2>HTTP ERROR 403 No valid crumb was included in the request</h2></body></html>', {
          'content-type': 'text/html;charset=iso-8859-1',
        });
      }
    }

    if (path === '/crumbIssuer/api/json' && (method === 'GET' || method === 'HEAD')) {
      const id = `node0${randomBytes(12).toString('hex')}`;
      const crumb = createHash('sha256').update(`${salt}:${seen.user}:${id}`).digest('hex');
      sessions.set(id, {id, crumb});
      return send(200, JSON.stringify({_class: 'hudson.security.csrf.DefaultCrumbIssuer', crumb, crumbRequestField: CRUMB_FIELD}), {
        'content-type': JSON_TYPE,
        'set-cookie': [`${cookieName}=${id}; Path=/; HttpOnly`],
      });
    }

    if (path === '/api/json' && (method === 'GET' || method === 'HEAD')) {
      return json(send, {_class: 'hudson.model.Hudson', mode: 'NORMAL', nodeDescription: 'the Jenkins controller', numExecutors: 2, jobs: [...jobs.values()].map((j) => jobSummary(j))}, url);
    }

    if (path === '/createItem' && method === 'POST') {
      if (!who.configure) return forbidden('hudson.model.Item.Create');
      const name = url.searchParams.get('name');
      if (!name) return send(400, '', {'x-error': 'Query parameter ‘name’ is required'});
      if (jobs.has(name)) return send(400, '', {'x-error': `A job already exists with the name ‘${name}’`});
      const type = header(req, 'content-type') ?? '';
      if (!/xml/.test(type)) return send(400, '', {'x-error': 'No mode and no XML body'});
      const xml = storedXml(body.toString('utf8'));
      if (xml === undefined) return send(500, '<html><body>com.thoughtworks.xstream.io.StreamException: not well-formed XML</body></html>', {'content-type': 'text/html;charset=utf-8'});
      jobs.set(name, {name, configXml: xml, builds: [], nextBuildNumber: 1, configWrites: 1});
      return send(200);
    }

    if (path.startsWith('/queue/')) return handleQueue(path, method, url, send);

    const jobMatch = /^\/job\/([^/]+)(\/.*)?$/.exec(path);
    if (!jobMatch) return send(404, '<html><body><h2>HTTP ERROR 404 Not Found</h2></body></html>', {'content-type': 'text/html;charset=utf-8'});
    const job = jobs.get(jobMatch[1]!);
    const rest = jobMatch[2] ?? '';
    if (!job) return send(404, '<html><body><h2>HTTP ERROR 404 Not Found</h2></body></html>', {'content-type': 'text/html;charset=utf-8'});

    if (rest === '/config.xml') {
      if (method === 'GET') {
        if (!who.configure) return forbidden('hudson.model.Item.ExtendedRead');
        return send(200, job.configXml, {'content-type': 'application/xml'});
      }
      if (method === 'POST') {
        if (!who.configure) return forbidden('hudson.model.Item.Configure');
        const xml = storedXml(body.toString('utf8'));
        if (xml === undefined) return send(500, '<html><body>Failed to persist config.xml</body></html>', {'content-type': 'text/html;charset=utf-8'});
        job.configXml = xml;
        job.configWrites++;
        return send(200);
      }
    }
    if (rest === '/api/json' && (method === 'GET' || method === 'HEAD')) return json(send, jobJson(job), url);
    if ((rest === '/buildWithParameters' || rest === '/build') && method === 'POST') {
      if (!who.build) return forbidden('hudson.model.Item.Build');
      const params = new URLSearchParams(url.search);
      if (/x-www-form-urlencoded/.test(header(req, 'content-type') ?? '')) {
        for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params.set(k, v);
      }
      const defined = parameterNames(job.configXml);
      if (rest === '/buildWithParameters' && defined.length === 0) {
        return send(400, '<html><body>Error 400 This page is only for parameterized jobs</body></html>', {'content-type': 'text/html;charset=utf-8'});
      }
      const parameters: Record<string, string> = {};
      for (const name of defined) parameters[name] = params.get(name) ?? defaultValue(job.configXml, name);
      const item = enqueue(job, parameters, params.get('delay'));
      return send(201, '', {location: `${base}/queue/item/${item.id}/`});
    }
    const buildMatch = /^\/(\d+|lastBuild)(\/.*)?$/.exec(rest);
    if (buildMatch) {
      const build = buildMatch[1] === 'lastBuild' ? job.builds.at(-1) : job.builds.find((b) => b.number === Number(buildMatch[1]));
      if (!build) return send(404, '<html><body><h2>HTTP ERROR 404 Not Found</h2></body></html>', {'content-type': 'text/html;charset=utf-8'});
      const sub = buildMatch[2] ?? '';
      if (sub === '/api/json' && (method === 'GET' || method === 'HEAD')) return json(send, buildJson(job, build), url);
      if (sub === '/logText/progressiveText' && (method === 'GET' || method === 'POST')) {
        let start = url.searchParams.get('start');
        if (method === 'POST' && /x-www-form-urlencoded/.test(header(req, 'content-type') ?? '')) {
          start = new URLSearchParams(body.toString('utf8')).get('start') ?? start;
        }
        const from = Math.max(0, Number.parseInt(start ?? '0', 10) || 0);
        const size = build.written;
        const text = from < size ? build.log.subarray(from, size) : Buffer.alloc(0);
        const headers: Record<string, string> = {'content-type': 'text/plain;charset=UTF-8', 'x-text-size': String(size)};
        if (build.building) headers['x-more-data'] = 'true';
        return send(200, text, headers);
      }
      if (sub === '/stop' && method === 'POST') {
        if (!who.build) return forbidden('hudson.model.Item.Cancel');
        if (build.building) finish(build, 'ABORTED', Buffer.from('Aborted by user\n'));
        return send(302, '', {location: `${base}/job/${encodeURIComponent(job.name)}/${build.number}/`});
      }
    }
    return send(404, '<html><body><h2>HTTP ERROR 404 Not Found</h2></body></html>', {'content-type': 'text/html;charset=utf-8'});
  }

  function handleQueue(path: string, method: string, url: URL, send: (status: number, payload?: string | Buffer, headers?: Record<string, string | string[]>) => void): void {
    if (path === '/queue/api/json') return json(send, {_class: 'hudson.model.Queue', discoverableItems: [], items: [...queue.values()].filter((q) => !q.cancelled && !q.build).map(queueJson)}, url);
    if (path === '/queue/cancelItem' && method === 'POST') {
      cancel(Number(url.searchParams.get('id')));
      return send(302, '', {location: `${base}/queue/`});
    }
    const m = /^\/queue\/item\/(\d+)(\/.*)?$/.exec(path);
    const item = m ? queue.get(Number(m[1])) : undefined;
    if (!m || !item) return send(404, '<html><body><h2>HTTP ERROR 404 Not Found</h2></body></html>', {'content-type': 'text/html;charset=utf-8'});
    if (m[2] === '/api/json' && (method === 'GET' || method === 'HEAD')) return json(send, queueJson(item), url);
    if (m[2] === '/cancelQueue' && method === 'POST') {
      cancel(item.id);
      return send(302, '', {location: `${base}/queue/`});
    }
    return send(404, '', {});
  }

  function enqueue(job: DoubleJob, parameters: Record<string, string>, delay: string | null): QueueItem {
    const plan = plans.get(job.name)?.shift() ?? {};
    const now = Date.now();
    const quiet = delay !== null ? Number.parseFloat(delay) * 1000 || 0 : (plan.quietPeriodMs ?? 0);
    const item: QueueItem = {
      id: nextQueueId++,
      job: job.name,
      parameters,
      plan,
      enteredAt: now,
      quietUntil: now + quiet,
      buildableUntil: now + quiet + (plan.executorWaitMs ?? 0),
      cancelled: false,
      timers: [],
    };
    queue.set(item.id, item);
    if (plan.cancelAfterMs !== undefined) item.timers.push(setTimeout(() => cancel(item.id), plan.cancelAfterMs));
    item.timers.push(setTimeout(() => startBuild(job, item), item.buildableUntil - now));
    return item;
  }

  function cancel(id: number): void {
    const item = queue.get(id);
    if (!item || item.build || item.cancelled) return;
    item.cancelled = true;
    for (const t of item.timers) clearTimeout(t);
  }

  function startBuild(job: DoubleJob, item: QueueItem): void {
    if (item.cancelled) return;
    const plan = item.plan;
    const log = Buffer.isBuffer(plan.log) ? plan.log : Buffer.from(plan.log ?? defaultLog(job.name, item.parameters), 'utf8');
    const pieces = plan.pieces ?? [1, 2, 3, 4].map((i) => Math.round((log.length * i) / 4));
    const build: DoubleBuild = {
      number: job.nextBuildNumber++,
      queueId: item.id,
      parameters: item.parameters,
      plan: {result: 'SUCCESS', stepMs: 30, ...plan},
      log,
      written: 0,
      building: true,
      result: null,
      startedAt: Date.now(),
      duration: 0,
      sha: plan.sha ?? item.parameters.GIT_SHA,
    };
    job.builds.push(build);
    item.build = build;
    const offsets = [...pieces.filter((p) => p > 0 && p < log.length), log.length];
    let i = 0;
    const tick = () => {
      if (!build.building) return;
      build.written = Math.max(build.written, offsets[i] ?? log.length);
      i++;
      if (i >= offsets.length) return finish(build, build.plan.result);
      build.timer = setTimeout(tick, build.plan.stepMs);
    };
    build.timer = setTimeout(tick, build.plan.stepMs);
  }

  function finish(build: DoubleBuild, result: string, extra?: Buffer): void {
    if (build.timer) clearTimeout(build.timer);
    const tailText = Buffer.from(`Finished: ${result}\n`);
    build.log = Buffer.concat([build.log.subarray(0, build.written), extra ?? Buffer.alloc(0), tailText]);
    build.written = build.log.length;
    build.result = result;
    build.duration = Math.max(1, Date.now() - build.startedAt);
    build.building = false;
  }

  function queueJson(item: QueueItem): Record<string, unknown> {
    const now = Date.now();
    const common = {
      actions: [
        {_class: 'hudson.model.ParametersAction', parameters: stringParams(item.parameters)},
        {_class: 'hudson.model.CauseAction', causes: [{_class: 'hudson.model.Cause$UserIdCause', shortDescription: 'Started by user ci-bot', userId: user, userName: user}]},
      ],
      blocked: false,
      id: item.id,
      inQueueSince: item.enteredAt,
      params: Object.entries(item.parameters).map(([k, v]) => `\n${k}=${v}`).join(''),
      stuck: false,
      task: {_class: 'org.jenkinsci.plugins.workflow.job.WorkflowJob', name: item.job, url: `${base}/job/${encodeURIComponent(item.job)}/`, color: 'notbuilt'},
      url: `queue/item/${item.id}/`,
    };
    if (item.cancelled) return {_class: 'hudson.model.Queue$LeftItem', ...common, buildable: false, why: null, cancelled: true, executable: null};
    if (item.build) {
      return {
        _class: 'hudson.model.Queue$LeftItem',
        ...common,
        buildable: false,
        why: null,
        timestamp: item.buildableUntil,
        cancelled: false,
        executable: {_class: 'org.jenkinsci.plugins.workflow.job.WorkflowRun', number: item.build.number, url: `${base}/job/${encodeURIComponent(item.job)}/${item.build.number}/`},
      };
    }
    if (now < item.quietUntil) {
      const left = ((item.quietUntil - now) / 1000).toFixed(1);
      return {_class: 'hudson.model.Queue$WaitingItem', ...common, buildable: false, why: `In the quiet period. Expires in ${left} sec`, timestamp: item.quietUntil};
    }
    return {_class: 'hudson.model.Queue$BuildableItem', ...common, buildable: true, why: 'Waiting for next available executor', pending: false, buildableStartMilliseconds: item.quietUntil};
  }

  function buildJson(job: DoubleJob, build: DoubleBuild): Record<string, unknown> {
    const actions: Record<string, unknown>[] = [
      {_class: 'hudson.model.ParametersAction', parameters: stringParams(build.parameters)},
      {_class: 'hudson.model.CauseAction', causes: [{_class: 'hudson.model.Cause$UserIdCause', shortDescription: `Started by user ${user}`, userId: user, userName: user}]},
      {},
    ];
    if (build.sha) {
      actions.push({
        _class: 'hudson.plugins.git.util.BuildData',
        buildsByBranchName: {'detached': {_class: 'hudson.plugins.git.util.Build', buildNumber: build.number, buildResult: null, marked: {SHA1: build.sha, branch: [{SHA1: build.sha, name: 'detached'}]}, revision: {SHA1: build.sha, branch: [{SHA1: build.sha, name: 'detached'}]}}},
        lastBuiltRevision: {SHA1: build.sha, branch: [{SHA1: build.sha, name: 'detached'}]},
        remoteUrls: [scmUrl(job.configXml) ?? ''],
        scmName: '',
      });
    }
    return {
      _class: 'org.jenkinsci.plugins.workflow.job.WorkflowRun',
      actions,
      artifacts: [],
      building: build.building,
      description: null,
      displayName: `#${build.number}`,
      duration: build.building ? 0 : build.duration,
      estimatedDuration: 10_000,
      executor: build.building ? {} : null,
      fullDisplayName: `${job.name} #${build.number}`,
      id: String(build.number),
      keepLog: false,
      number: build.number,
      queueId: build.queueId,
      result: build.result,
      timestamp: build.startedAt,
      url: `${base}/job/${encodeURIComponent(job.name)}/${build.number}/`,
      changeSets: [],
      culprits: [],
      inProgress: build.building,
      nextBuild: null,
      previousBuild: null,
    };
  }

  function jobSummary(job: DoubleJob): Record<string, unknown> {
    const last = job.builds.at(-1);
    const color = !last ? 'notbuilt' : last.building ? 'blue_anime' : last.result === 'SUCCESS' ? 'blue' : last.result === 'UNSTABLE' ? 'yellow' : last.result === 'ABORTED' ? 'aborted' : 'red';
    return {_class: 'org.jenkinsci.plugins.workflow.job.WorkflowJob', name: job.name, url: `${base}/job/${encodeURIComponent(job.name)}/`, color};
  }

  function jobJson(job: DoubleJob): Record<string, unknown> {
    const ref = (b: DoubleBuild) => ({_class: 'org.jenkinsci.plugins.workflow.job.WorkflowRun', number: b.number, url: `${base}/job/${encodeURIComponent(job.name)}/${b.number}/`});
    const newest = [...job.builds].reverse();
    return {
      ...jobSummary(job),
      actions: [{}, {_class: 'hudson.model.ParametersDefinitionProperty'}],
      description: null,
      displayName: job.name,
      fullDisplayName: job.name,
      fullName: job.name,
      buildable: true,
      builds: newest.map((b) => ({...ref(b), ...buildJson(job, b)})),
      firstBuild: job.builds[0] ? ref(job.builds[0]) : null,
      lastBuild: newest[0] ? ref(newest[0]) : null,
      lastCompletedBuild: newest.find((b) => !b.building) ? ref(newest.find((b) => !b.building)!) : null,
      inQueue: [...queue.values()].some((q) => q.job === job.name && !q.cancelled && !q.build),
      nextBuildNumber: job.nextBuildNumber,
      property: [{_class: 'hudson.model.ParametersDefinitionProperty', parameterDefinitions: parameterNames(job.configXml).map((name) => ({_class: 'hudson.model.StringParameterDefinition', name, type: 'StringParameterDefinition', defaultParameterValue: {_class: 'hudson.model.StringParameterValue', name, value: defaultValue(job.configXml, name)}}))}],
      queueItem: null,
      concurrentBuild: true,
    };
  }

  function json(send: (status: number, payload?: string | Buffer, headers?: Record<string, string | string[]>) => void, value: Record<string, unknown>, url: URL): void {
    const tree = url.searchParams.get('tree');
    const shaped = tree ? applyTree(value, tree) : value;
    send(200, JSON.stringify(shaped), {'content-type': JSON_TYPE});
  }

  // Jenkins (its Jetty connector) keeps an idle connection 30 s by default.
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;

  return {
    url: base,
    user,
    token,
    requests,
    addUser(name, userToken, permissions = {}) {
      users.set(name, {token: userToken, read: permissions.read ?? true, build: permissions.build ?? true, configure: permissions.configure ?? true});
    },
    job: (name) => jobs.get(name),
    planBuild(job, plan) {
      const list = plans.get(job) ?? [];
      list.push(plan);
      plans.set(job, list);
    },
    cancelQueueItem: cancel,
    connections: () => new Promise((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count)))),
    failNext(match) {
      failures.push({method: match.method, path: match.path, status: match.status ?? 500, times: match.times ?? 1, ...(match.body === undefined ? {} : {body: match.body})});
    },
    async stop() {
      for (const item of queue.values()) for (const t of item.timers) clearTimeout(t);
      for (const job of jobs.values()) for (const b of job.builds) if (b.timer) clearTimeout(b.timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join('; ') : v;
}

function parseCookies(cookie: string | string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (Array.isArray(cookie) ? cookie.join('; ') : (cookie ?? '')).split(/;\s*/)) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

function stringParams(parameters: Record<string, string>): Record<string, unknown>[] {
  return Object.entries(parameters).map(([name, value]) => ({_class: 'hudson.model.StringParameterValue', name, value}));
}

/**
 * What Jenkins stores and serves back for a posted config.xml: XStream re-serialises it with its
 * own XML declaration and records each plugin's installed version in `plugin="name@version"`.
 * Returns undefined when the body is not XML.
 */
function storedXml(xml: string): string | undefined {
  const trimmed = xml.replace(/^\uFEFF/, '').trim();
  if (!/^(<\?xml[^>]*\?>\s*)?<[A-Za-z][\w.-]*[\s>/]/.test(trimmed) || !balanced(trimmed)) return undefined;
  const withoutDecl = trimmed.replace(/^<\?xml[^>]*\?>\s*/, '');
  const versioned = withoutDecl.replace(/plugin="([\w.-]+)"/g, (_m, name: string) => `plugin="${name}@${pluginVersion(name)}"`);
  return `<?xml version='1.1' encoding='UTF-8'?>\n${versioned}\n`;
}

function pluginVersion(name: string): string {
  const known: Record<string, string> = {'workflow-job': '1436.vfa_244484591f', 'workflow-cps': '3894.vd0f0248b_a_fc4', git: '5.2.2'};
  return known[name] ?? '1.0';
}

/** A cheap well-formedness check: every opened element is closed in order. */
function balanced(xml: string): boolean {
  const stack: string[] = [];
  const re = /<(\/?)([A-Za-z_][\w.:-]*)[^>]*?(\/?)>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!\[CDATA\[[\s\S]*?\]\]>/g;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    if (!m[2]) continue;
    if (m[1]) {
      if (stack.pop() !== m[2]) return false;
    } else if (!m[3]) stack.push(m[2]);
  }
  return stack.length === 0;
}

function parameterNames(xml: string): string[] {
  const names: string[] = [];
  const re = /<hudson\.model\.(?:String|Text|Boolean|Choice|Password)ParameterDefinition>[\s\S]*?<name>([^<]+)<\/name>/g;
  for (let m = re.exec(xml); m; m = re.exec(xml)) names.push(unescapeXml(m[1]!));
  return names;
}

function defaultValue(xml: string, name: string): string {
  const re = /<hudson\.model\.(?:String|Text)ParameterDefinition>([\s\S]*?)<\/hudson\.model\.(?:String|Text)ParameterDefinition>/g;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    if (new RegExp(`<name>${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}</name>`).test(m[1]!)) {
      return unescapeXml(/<defaultValue>([^<]*)<\/defaultValue>/.exec(m[1]!)?.[1] ?? '');
    }
  }
  return '';
}

function scmUrl(xml: string): string | undefined {
  const m = /<hudson\.plugins\.git\.UserRemoteConfig>[\s\S]*?<url>([^<]+)<\/url>/.exec(xml);
  return m ? unescapeXml(m[1]!) : undefined;
}

function unescapeXml(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

function defaultLog(job: string, parameters: Record<string, string>): string {
  return [
    `Started by user ci-bot`,
    `[Pipeline] Start of Pipeline`,
    `[Pipeline] node`,
    `Running on built-in node in /var/jenkins_home/workspace/${job}`,
    `[Pipeline] stage (checkout)`,
    `Checking out Revision ${parameters.GIT_SHA ?? 'HEAD'}`,
    `[Pipeline] stage (build)`,
    `Building image with tag ${parameters.IMAGE_TAG ?? 'latest'}`,
    `[Pipeline] End of Pipeline`,
    '',
  ].join('\n');
}

/**
 * Jenkins' `tree` query: `a,b[c,d]{0,5}` keeps the named keys; `{m,n}` slices a list.
 * Unknown keys are left out, as Jenkins does.
 */
export function applyTree(value: unknown, tree: string): unknown {
  const spec = parseTree(tree);
  return shape(value, spec);
}

interface TreeNode {
  name: string;
  children?: TreeNode[];
  range?: [number, number | undefined];
}

function parseTree(text: string): TreeNode[] {
  let i = 0;
  const parseList = (): TreeNode[] => {
    const nodes: TreeNode[] = [];
    while (i < text.length) {
      const m = /^[\w$]+/.exec(text.slice(i));
      if (!m) break;
      i += m[0].length;
      const node: TreeNode = {name: m[0]};
      if (text[i] === '[') {
        i++;
        node.children = parseList();
        if (text[i] === ']') i++;
      }
      if (text[i] === '{') {
        const close = text.indexOf('}', i);
        const [a, b] = text.slice(i + 1, close).split(',');
        node.range = [Number(a || 0), b === undefined ? Number(a) + 1 : b === '' ? undefined : Number(b)];
        i = close + 1;
      }
      nodes.push(node);
      if (text[i] === ',') i++;
      else break;
    }
    return nodes;
  };
  return parseList();
}

function shape(value: unknown, nodes: TreeNode[]): unknown {
  if (Array.isArray(value)) return value.map((v) => shape(v, nodes));
  if (!value || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  if ('_class' in obj) out._class = obj._class;
  for (const node of nodes) {
    if (!(node.name in obj)) continue;
    let v = obj[node.name];
    if (Array.isArray(v) && node.range) v = v.slice(node.range[0], node.range[1]);
    out[node.name] = node.children ? shape(v, node.children) : v;
  }
  return out;
}
