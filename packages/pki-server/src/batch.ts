import DataLoader from 'dataloader';

/**
 * The look-ups of the requests read in one turn of the event loop, sent to the database as one
 * batch (at most 500), nothing cached between turns: how the hot paths share round trips under load.
 */
export function batchPerTurn<K, V>(load: (keys: readonly K[]) => Promise<V[]>): DataLoader<K, V> {
  return new DataLoader<K, V>(load, {cache: false, maxBatchSize: 500, batchScheduleFn: (run) => setImmediate(run)});
}
