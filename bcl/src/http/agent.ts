import type {Agent as HttpAgent} from 'node:http';
import type {Env} from '../paths.js';
import type {TlsOptions} from './client.js';

/**
 * The node:http(s) Agent of bcl's HttpClient, also for libraries that take an agent (the npm
 * jenkins client): the proxies from HTTPS_PROXY/HTTP_PROXY/NO_PROXY (Node's built-in
 * proxy support) and the TLS options (a CA bundle, a client certificate).
 */
export function nodeHttpAgent(url: string, options: {env: Env; tls?: TlsOptions; keepAlive?: boolean}): HttpAgent {
  const e = options.env;
  const proxyEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries({
    HTTP_PROXY: e.http_proxy ?? e.HTTP_PROXY,
    HTTPS_PROXY: e.https_proxy ?? e.HTTPS_PROXY,
    NO_PROXY: e.no_proxy ?? e.NO_PROXY,
  })) {
    if (value) proxyEnv[key] = value;
  }
  const agentOptions = {keepAlive: options.keepAlive ?? false, proxyEnv, ...(options.tls ?? {})};
  // Loaded here, not imported: an ESM import of node:http materialises all its exports, among them
  // lazily loaded ones that load Node's internal undici (about 40 ms at every start).
  return /^https:/i.test(url) ? new (process.getBuiltinModule('node:https').Agent)(agentOptions) : new (process.getBuiltinModule('node:http').Agent)(agentOptions);
}
