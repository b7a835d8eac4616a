/**
 * registerToolbox(app, options): the PKI Toolbox's pages and assets on a Fastify app (the PKI
 * server's). The assets were built by esbuild at build time (build-assets.mjs); here they are
 * only served: pre-compressed, with hashed names cached for a year, and the page itself with a
 * strict Content-Security-Policy and no caching. The pages call the server's /v1/ API.
 */
import {existsSync, readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import type {FastifyInstance, FastifyReply} from 'fastify';
import {SECURITY_HEADERS} from './headers.js';

export interface ToolboxOptions {
  /** Where the pages are: "/" (default) or a path such as "/toolbox/". */
  prefix?: string;
  /** The built site (index.html and assets/); default: this package's dist/site. */
  siteDir?: string;
}

/** The page paths the Toolbox answers (below the prefix); the browser routes between them. */
export const TOOLBOX_PAGES = ['', 'vpn', 'certificates', 'admin', 'admin/*'] as const;

/** The package's dist/site, from dist/plugin.js as from src/plugin.ts (tests run the source). */
export const defaultSiteDir = () => join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'site');

export class ToolboxAssetsMissing extends Error {
  readonly code = 'toolbox_assets_missing';
}

export async function registerToolbox(app: FastifyInstance, options: ToolboxOptions = {}): Promise<void> {
  const prefix = normalPrefix(options.prefix ?? '/');
  const site = options.siteDir ?? defaultSiteDir();
  const indexFile = join(site, 'index.html');
  if (!existsSync(indexFile)) {
    throw new ToolboxAssetsMissing(`the PKI Toolbox's pages are not built: ${indexFile} is missing (run node scripts/build.mjs)`);
  }
  const page = readFileSync(indexFile, 'utf8').replaceAll('%BASE%', prefix);
  const fastifyStatic = (await import('@fastify/static')).default;

  // Encapsulated: the headers below apply to the Toolbox's routes only, not to the server's API.
  await app.register(async (scope) => {
    const secure = (reply: FastifyReply) => {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) void reply.header(name, value);
    };
    await scope.register(fastifyStatic, {
      root: join(site, 'assets'),
      prefix: `${prefix}assets/`,
      preCompressed: true,
      schemaHide: true,
      index: false,
      decorateReply: false,
      immutable: true,
      maxAge: '365d',
      setHeaders: (reply: FastifyReply) => secure(reply),
    });
    for (const path of TOOLBOX_PAGES) {
      scope.get(`${prefix}${path}`, {schema: {hide: true} as never}, async (_request, reply) => {
        secure(reply);
        return reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(page);
      });
    }
  });
}

function normalPrefix(prefix: string): string {
  if (!/^\/([A-Za-z0-9._~-]+\/)*$/.test(prefix.endsWith('/') ? prefix : `${prefix}/`)) {
    throw new TypeError(`registerToolbox: prefix ${JSON.stringify(prefix)} must be a path such as "/" or "/toolbox/"`);
  }
  return prefix.endsWith('/') ? prefix : `${prefix}/`;
}
