import type {Ui} from '@bcl/core';
import {seconds, type ServiceDeployResult} from '@bcl/deploy-core/deploy';

/** krane's last phase: every failing service, why, its pods' last log lines, and what to do next. */
export function reportFailures(ui: Ui, results: readonly ServiceDeployResult[]): void {
  const bad = results.filter((r) => r.outcome !== 'succeeded');
  if (bad.length === 0) return;
  ui.step(`Result: ${bad.length} of ${results.length} service(s) did not deploy`);
  for (const r of bad) {
    const rev = r.revision === null ? '' : ` revision ${r.revision}`;
    ui.line(`${ui.paint(['red', 'bold'], '✗')} ${r.service} (${r.environment},${rev ? rev : ' nothing recorded'}): ${r.outcome}: ${r.message}`);
    for (const p of r.failure?.pods ?? []) ui.line(`    pod ${p.pod}${p.container ? ` container ${p.container}` : ''}: ${p.reason}: ${p.message}`);
    for (const e of r.failure?.events ?? []) ui.line(`    event ${e.object}: ${e.reason}: ${e.message}`);
    for (const l of r.failure?.logs ?? []) {
      if (l.lines && l.lines.length > 0) {
        ui.line(`    last log lines of ${l.pod}/${l.container}:`);
        for (const line of l.lines) ui.line(`      ${line}`);
      } else if (l.lines) {
        ui.line(`    logs of ${l.pod}/${l.container}: (empty)`);
      } else {
        ui.line(`    logs of ${l.pod}/${l.container}: not available (${l.unavailable})`);
      }
    }
    if (r.failure && r.failure.pods.some((p) => p.fatal) && r.failure.logs.length === 0) ui.line('    no logs: the failing containers never started');
    if (r.rollback) {
      const rb = r.rollback;
      const mark = rb.outcome === 'succeeded' ? ui.paint('green', '↩') : ui.paint('red', '✗');
      ui.line(`  ${mark} rollback to revision ${rb.toRevision} (${rb.image}) as revision ${rb.revision}: ${rb.outcome} in ${seconds(rb.durationMs)}${rb.outcome === 'succeeded' ? '' : `: ${rb.message}`}`);
    }
    if (r.outcome === 'interrupted' && r.applied.length > 0) ui.line(`    applied before the interrupt: ${r.applied.map((a) => a.ref).join(', ')}`);
    if (r.error?.hint) ui.line(`    ${ui.paint('cyan', 'Hint:')} ${r.error.hint}`);
  }
  const env = results[0]!.environment;
  ui.info(`Next: \`svctl status --env ${env}\` shows what runs now, \`svctl history --env ${env}\` every revision.`);
}
