import type {ResultWriter} from '@bcl/core';
import type {ServiceDeployResult} from '@bcl/deploy-core/deploy';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/** The summary table on stdout. */
export function renderSummary(out: ResultWriter, results: readonly ServiceDeployResult[]): void {
  out.table(
    results.map((r) => ({
      service: r.service,
      revision: r.revision === null ? '-' : String(r.revision),
      outcome: r.rollback ? `${r.outcome} (to ${r.rollback.toRevision})` : r.outcome,
      image: r.image,
      duration: seconds(r.durationMs),
    })),
    [
      {header: 'SERVICE', get: (r) => r.service},
      {header: 'REVISION', get: (r) => r.revision},
      {header: 'OUTCOME', get: (r) => r.outcome},
      {header: 'IMAGE', get: (r) => r.image},
      {header: 'DURATION', get: (r) => r.duration},
    ],
  );
}
