import type {Server as TlsServer} from 'node:tls';
import {CrlRollbackError} from './errors.js';
import {loadTlsMaterial, type LoadOptions, type TlsFiles, type TlsMaterial} from './material.js';
import {watchFiles} from './watch.js';

export interface TlsLog {
  info(message: string): void;
  error(message: string): void;
}

/** What /healthz reports about the TLS material. */
export interface TlsStatus {
  /** False when the last reload was refused (the previous material is still in force). */
  ok: boolean;
  /** Why the last reload was refused. */
  problem?: string;
  /** The CRLs in force. */
  crls: {issuer: string; number: string; thisUpdate: string; nextUpdate: string | null; file: string}[];
  loadedAt: string;
}

/** The part of an HTTPS server reloading needs (node:https and node:tls servers have it). */
type ReloadableServer = Pick<TlsServer, 'setSecureContext'> & {closeIdleConnections?: () => void};

/** A node:https / node:tls server, or a Fastify app's `server` created with `https` (typed as node:http's). */
export type TlsServerLike = ReloadableServer | import('node:http').Server;

export interface TlsReloader {
  /** Re-reads the files now (what SIGHUP does); resolves once applied or refused. */
  reload(why: string): Promise<void>;
  status(): TlsStatus;
  stop(): void;
}

/**
 * Keeps a server's TLS material current: on a file change (or `reload()`), reads and checks it
 * again, installs it with setSecureContext and closes idle kept-alive connections (they were
 * verified against the old CRL). A refused reload (an older CRL, a broken file) is logged and
 * reported by `status()`, and the previous material stays in force.
 */
export function watchTlsMaterial(serverLike: TlsServerLike, files: TlsFiles, initial: TlsMaterial, options: LoadOptions & {log: TlsLog; intervalMs?: number; now?: () => Date}): TlsReloader {
  if (typeof (serverLike as Partial<ReloadableServer>).setSecureContext !== 'function') throw new TypeError('watchTlsMaterial: the server is not a TLS server (create it with the https options of loadTlsMaterial)');
  const server = serverLike as ReloadableServer;
  const now = options.now ?? (() => new Date());
  let state: TlsStatus = describe(initial, now());
  let queue = Promise.resolve();
  const reload = (why: string): Promise<void> => {
    queue = queue.then(async () => {
      try {
        const material = await loadTlsMaterial(files, options);
        server.setSecureContext(material.contextOptions);
        server.closeIdleConnections?.();
        state = describe(material, now());
        options.log.info(`tls: reloaded certificates and CRL (${why})`);
      } catch (error) {
        const message = (error as Error).message;
        state = {...state, ok: false, problem: message};
        options.log.error(`tls: ${error instanceof CrlRollbackError ? 'CRL ROLLBACK REFUSED: ' : ''}${message}; keeping the previous TLS material`);
      }
    });
    return queue;
  };
  const stop = watchFiles([files.cert, files.key, files.clientCa, ...files.crl], (f) => void reload(`${f} changed`), options.intervalMs);
  return {reload, status: () => state, stop};
}

function describe(material: TlsMaterial, at: Date): TlsStatus {
  return {
    ok: true,
    crls: material.crls.map((c) => ({issuer: c.issuer, number: c.number.toString(), thisUpdate: c.thisUpdate.toISOString(), nextUpdate: c.nextUpdate?.toISOString() ?? null, file: c.file})),
    loadedAt: at.toISOString(),
  };
}
