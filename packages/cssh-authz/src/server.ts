import {constants} from 'node:crypto';
import {createServer, type Server} from 'node:https';
import type {IncomingMessage, ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';
import type {TLSSocket} from 'node:tls';
import {checkPeer, loadTlsMaterial, watchFiles, watchTlsMaterial} from '@bcl/mtls';
import {loadCa} from './ca.js';
import type {ServiceConfig} from './config.js';
import {parseDuration} from './duration.js';
import {checkHostPeer} from './host-identity.js';
import type {Logger} from './log.js';
import {RulesSource} from './rules-source.js';
import {SecretsKey} from './secrets.js';
import {AuthzService, type CallContext, ServiceError} from './service.js';
import {type OpenedState, openConfiguredState} from './store/open.js';

const MAX_BODY_BYTES = 64 * 1024;
/** The longest a GET /v1/krl?wait= is held, and how often a held one looks at the KRL without a notification. */
const MAX_KRL_WAIT_SECONDS = 60;
const CHANGE_CHECK_MS = 1000;

export interface RunningAuthz {
  /** https://host:port */
  url: string;
  port: number;
  service: AuthzService;
  rules: RulesSource;
  /** Re-reads the rules and the TLS material (what SIGHUP does). */
  reload(why: string): void;
  stop(): Promise<void>;
}

/**
 * Starts the service: loads everything first (any problem is thrown before listening), then
 * serves HTTPS with client certificates requested, and watches the rules and TLS files.
 */
export async function startAuthz(config: ServiceConfig, log: Logger, options: {now?: () => Date; watchIntervalMs?: number; state?: OpenedState} = {}): Promise<RunningAuthz> {
  const now = options.now ?? (() => new Date());
  const ca = loadCa(config.ca.key, config.ca.passphraseFile);
  const secrets = config.secretsKey ? SecretsKey.load(config.secretsKey) : undefined;
  const rules = new RulesSource(config.rules, parseDuration(config.certificates.maxTtl)!, log);
  // The highest CRL number seen per issuer survives restarts (and is shared by replicas): an older CRL never un-revokes.
  const opened = options.state ?? (await openConfiguredState(config, {now, onWarning: (m) => log.warn(m)}));
  const {store, crlNumbers} = opened;
  let tls;
  try {
    tls = await loadTlsMaterial(config.tls, {crlNumbers});
  } catch (error) {
    await store.close();
    throw error;
  }
  const service = new AuthzService({
    ca,
    secrets,
    rules: () => rules.current,
    store,
    now,
    defaultTtlSeconds: parseDuration(config.certificates.defaultTtl)!,
    totp: {issuer: config.mfa.issuer, maxFailures: config.mfa.maxFailures, failureWindowSeconds: parseDuration(config.mfa.failureWindow)!},
  });
  // Fails at start, not at the first issuance, when the keyring cannot give a signing key.
  await service.caKeys();
  if (!secrets && rules.current.spec.grants.some((g) => g.mfa)) log.warn('rules: a grant requires mfa: totp, but no secretsKey is configured: such certificates cannot be issued');

  // No TLS renegotiation: a connection's client certificate cannot change, so its identity is checked once.
  const server: Server = createServer({...tls.serverOptions, secureOptions: (tls.serverOptions.secureOptions ?? 0) | constants.SSL_OP_NO_RENEGOTIATION}, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      log.error(`${req.method} ${req.url}: ${(error as Error).stack ?? String(error)}`);
      if (!res.headersSent) send(res, 500, {error: {code: 'internal', message: 'internal error'}});
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.on('tlsClientError', (error) => log.warn(`tls: handshake failed: ${error.message}`));

  const tlsReloader = watchTlsMaterial(server, config.tls, tls, {crlNumbers, log, ...(options.watchIntervalMs ? {intervalMs: options.watchIntervalMs} : {})});
  const stopWatching = [watchFiles([config.rules], () => rules.reload('file changed'), options.watchIntervalMs), () => tlsReloader.stop()];

  /** The verified person of each connection (the TLS handshake's certificate, fixed for the connection). */
  const people = new WeakMap<TLSSocket, CallContext['identity']>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://cssh-authz');
    const route = `${req.method} ${url.pathname}`;
    const source = req.socket.remoteAddress ?? 'unknown';
    switch (url.pathname) {
      case '/healthz':
        if (!allow(req, res, 'GET')) return;
        return send(res, 200, {ok: true, rules: rules.current.summary(), ...(await service.health()), tls: tlsReloader.status()});
      case '/v1/ca.pub':
        if (!allow(req, res, 'GET')) return;
        return sendText(res, 200, await service.caPublicKey(), 'text/plain; charset=utf-8');
      case '/v1/krl': {
        if (!allow(req, res, 'GET')) return;
        const wait = url.searchParams.get('wait');
        if (wait !== null && !/^\d{1,2}$/.test(wait)) return send(res, 400, {error: {code: 'invalid_request', message: `wait: expected whole seconds from 0 to ${MAX_KRL_WAIT_SECONDS}`}});
        const seen = req.headers['if-none-match'];
        let krl = await service.krl();
        // A long poll: a host that has the current KRL is answered when it changes (or at the end of the wait).
        if (wait !== null && seen === krl.etag) krl = await krlChange(res, seen, Math.min(Number(wait), MAX_KRL_WAIT_SECONDS) * 1000);
        const etag = krl.etag;
        if (seen === etag) {
          res.writeHead(304, {etag});
          res.end();
          return;
        }
        res.writeHead(200, {'content-type': 'application/octet-stream', 'content-length': krl.data.length, etag, 'cache-control': 'no-cache'});
        res.end(krl.data);
        return;
      }
      case '/v1/principals': {
        if (!allow(req, res, 'GET')) return;
        if (config.principalsEndpoint === 'client-certificate' && !(await authenticate(req, res, route, source))) return;
        try {
          return send(res, 200, await service.principals(url.searchParams));
        } catch (error) {
          return refuse(res, error);
        }
      }
      case '/v1/certificates':
        return callerPost(req, res, route, source, 201, (call, body) => service.issue(call, body));
      case '/v1/revoke':
        return callerPost(req, res, route, source, 200, async (call, body) => {
          const result = await service.revoke(call, body);
          log.info(`revoke: ${call.identity.email} revoked ${result.revoked.length} certificate(s); KRL version ${result.krlVersion}`);
          return result;
        });
      case '/v1/mfa/totp':
        return callerPost(req, res, route, source, 201, (call, body) => service.enrolTotp(call, body));
      case '/v1/mfa/totp/confirm':
        return callerPost(req, res, route, source, 200, (call, body) => service.confirmTotp(call, body));
      case '/v1/host/logins': {
        if (!allow(req, res, 'GET')) return;
        const host = await authenticateHost(req, res, route, source, url.searchParams.get('host'));
        if (!host) return;
        return send(res, 200, service.hostLogins(host));
      }
      default:
        return send(res, 404, {error: {code: 'not_found', message: `no such endpoint: ${url.pathname}`}});
    }
  }

  /**
   * The KRL once its ETag is no longer `seen`, or the same one after `waitMs`: woken by the
   * store's notifications, and checking at least every CHANGE_CHECK_MS (a notification can be lost).
   */
  async function krlChange(res: ServerResponse, seen: string, waitMs: number): Promise<Awaited<ReturnType<AuthzService['krl']>>> {
    const deadline = Date.now() + waitMs;
    let gone = false;
    // The host hung up (or the server is closing): stop waiting for it.
    res.once('close', () => (gone = true));
    let krl = await service.krl();
    while (krl.etag === seen && !gone && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const done = () => (clearTimeout(timer), unwatch(), resolve());
        const timer = setTimeout(done, Math.min(CHANGE_CHECK_MS, Math.max(0, deadline - Date.now())));
        const unwatch = store.watch(done);
      });
      krl = await service.krl();
    }
    return krl;
  }

  /** A POST by a verified PKI client with a JSON body: the answer of `work`, or its refusal. */
  async function callerPost(req: IncomingMessage, res: ServerResponse, route: string, source: string, status: number, work: (call: CallContext, body: unknown) => Promise<unknown>): Promise<void> {
    if (!allow(req, res, 'POST')) return;
    const call = await authenticate(req, res, route, source);
    if (!call) return;
    const body = await readJson(req, res);
    if (body === NO_BODY) return;
    try {
      return send(res, status, await work(call, body));
    } catch (error) {
      return refuse(res, error);
    }
  }

  /** The verified caller, or a 401/403 (audited) naming why. */
  async function authenticate(req: IncomingMessage, res: ServerResponse, route: string, source: string): Promise<CallContext | undefined> {
    const socket = req.socket as TLSSocket;
    const known = people.get(socket);
    if (known) return {identity: known, source};
    const peer = checkPeer(socket, {kinds: ['person']});
    if (peer.ok) {
      const {email, subject, x509Serial, issuer} = peer.identity;
      const identity = {email: email!, subject, x509Serial, issuer};
      // Kept-alive connections ask many times; reading the certificate costs more than signing.
      people.set(socket, identity);
      return {identity, source};
    }
    await store.audit({
      time: now().toISOString(),
      event: 'request.refused',
      route,
      source,
      subject: peer.subject ?? null,
      x509Serial: peer.x509Serial ?? null,
      status: peer.status,
      code: peer.code,
      reason: peer.reason,
    });
    send(res, peer.status, {error: {code: peer.code, message: peer.reason}}, peer.status === 401 ? {'www-authenticate': 'MutualTLS realm="cssh-authz"'} : {});
    return undefined;
  }

  /** The calling host, by its PKI certificate, asking about itself (`host` is one of its names), or a 401/403 (audited). */
  async function authenticateHost(req: IncomingMessage, res: ServerResponse, route: string, source: string, host: string | null): Promise<string | undefined> {
    const peer = checkHostPeer(req.socket as TLSSocket);
    const refusal = !peer.ok
      ? peer
      : !host
        ? {status: 400 as const, code: 'invalid_request', reason: 'query parameter "host" is required (the host\'s name in the access rules)', subject: peer.subject, x509Serial: peer.x509Serial}
        : !peer.hostnames.includes(host.toLowerCase())
          ? {status: 403 as const, code: 'not_this_host', reason: `the client certificate is for ${peer.hostnames.join(', ')}, not ${host.slice(0, 253)}`, subject: peer.subject, x509Serial: peer.x509Serial}
          : undefined;
    if (!refusal) return host!.toLowerCase();
    await store.audit({time: now().toISOString(), event: 'request.refused', route, source, subject: refusal.subject ?? null, x509Serial: refusal.x509Serial ?? null, status: refusal.status, code: refusal.code, reason: refusal.reason});
    send(res, refusal.status, {error: {code: refusal.code, message: refusal.reason}}, refusal.status === 401 ? {'www-authenticate': 'MutualTLS realm="cssh-authz"'} : {});
    return undefined;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.listenPort, config.listenHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.listenHost.includes(':') ? `[${config.listenHost}]` : config.listenHost;
  return {
    url: `https://${host}:${port}`,
    port,
    service,
    rules,
    reload(why) {
      rules.reload(why);
      void tlsReloader.reload(why);
    },
    async stop() {
      for (const stop of stopWatching) stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await store.close();
    },
  };
}

const NO_BODY = Symbol('no body');

/** The request's JSON body, or a 4xx already sent (wrong type, too large, not JSON). */
async function readJson(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) {
    send(res, 415, {error: {code: 'unsupported_media_type', message: 'send the body as JSON (Content-Type: application/json)'}});
    req.resume();
    return NO_BODY;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      send(res, 413, {error: {code: 'too_large', message: `the body is larger than ${MAX_BODY_BYTES / 1024} KiB`}}, {connection: 'close'});
      req.destroy();
      return NO_BODY;
    }
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    send(res, 400, {error: {code: 'invalid_json', message: `the body is not valid JSON: ${(error as Error).message}`}});
    return NO_BODY;
  }
}

function allow(req: IncomingMessage, res: ServerResponse, method: 'GET' | 'POST'): boolean {
  if (req.method === method || (method === 'GET' && req.method === 'HEAD')) return true;
  send(res, 405, {error: {code: 'method_not_allowed', message: `${req.method} is not allowed here; use ${method}`}}, {allow: method});
  req.resume();
  return false;
}

function refuse(res: ServerResponse, error: unknown): void {
  if (!(error instanceof ServiceError)) throw error;
  send(res, error.status, {error: {code: error.code, message: error.message, ...(error.details ? {details: error.details} : {})}});
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendText(res, status, `${JSON.stringify(body)}\n`, 'application/json', headers);
}

function sendText(res: ServerResponse, status: number, text: string, type: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {'content-type': type, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers});
  res.end(text);
}
