import {join} from 'node:path';
import type {CrlNumberStore} from '@bcl/mtls';
import type {ServiceConfig} from '../config.js';
import type {AuthzStore} from './types.js';

/** The store the configuration names, and where the highest CRL numbers seen are kept beside it. */
export interface OpenedState {
  store: AuthzStore;
  crlNumbers: CrlNumberStore;
}

/**
 * Opens the state directory of a single node, or the database of replicas (loaded only then:
 * a single node never loads the database driver).
 */
export async function openConfiguredState(config: ServiceConfig, options: {now?: () => Date; onWarning?: (message: string) => void} = {}): Promise<OpenedState> {
  const state = config.state;
  if (state.kind === 'files') {
    const {FileCrlNumberStore} = await import('@bcl/mtls');
    const {FileStore} = await import('./file-store.js');
    const store = await FileStore.open({stateDir: state.stateDir, auditLog: state.auditLog, ...(options.now ? {now: options.now} : {})});
    return {store, crlNumbers: new FileCrlNumberStore(join(state.stateDir, 'crl-numbers.json'))};
  }
  const {databaseUrl} = await import('../config.js');
  const {PostgresStore} = await import('./postgres-store.js');
  const {postgresCrlNumberStore} = await import('@bcl/postgres');
  const store = await PostgresStore.open({url: databaseUrl(config), pool: state.pool, ...(options.onWarning ? {onWarning: options.onWarning} : {})});
  return {store, crlNumbers: postgresCrlNumberStore(store.kysely)};
}
