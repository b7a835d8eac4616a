/**
 * Which back end a command talks to: the PKI server (pkictl.server) or a Git store
 * (pkictl.store). A server configured anywhere wins, so a migrated installation just sets it;
 * an explicit --store still reaches the store (for the migration itself, or reading history).
 */
import {usageError} from '@bcl/core';
import type {PkictlSettings} from '../config.js';
import type {PkiIo} from './io.js';

export function usesServer(io: Pick<PkiIo, 'config'>, settings: PkictlSettings): boolean {
  const fromFlag = (key: string) => io.config.entry(key)?.origin.kind === 'flag';
  if (fromFlag('pkictl.store') && fromFlag('pkictl.server')) {
    throw usageError('give --store (a Git store) or --server (a PKI server), not both', {details: {flag: '--server'}}, 'usage.conflicting_flags');
  }
  if (fromFlag('pkictl.store')) return false;
  return Boolean(settings.server);
}
