import type {ResultWriter} from '../output/result.js';
import type {CheckOutcome, InstallOutcome} from './installer.js';

export function describeOutcome(o: InstallOutcome): string {
  switch (o.action) {
    case 'installed':
      return `${o.tool} ${o.to} installed from ${o.channel || 'the store'}`;
    case 'unchanged':
      return `${o.tool} ${o.to} is already the current version (${o.channel})`;
    case 'reinstalled':
      return `${o.tool} ${o.to} reinstalled`;
    case 'rolled back':
      return `${o.tool} rolled back: ${o.from ?? 'none'} -> ${o.to}`;
    default:
      return `${o.tool} ${o.action}: ${o.from ?? 'none'} -> ${o.to}${o.downloaded ? '' : ' (kept version, no download)'}`;
  }
}

export function describeCheck(c: CheckOutcome): string {
  const lines = [
    c.updateAvailable
      ? `${c.tool} ${c.latest} is available on ${c.channel} (you have ${c.current ?? 'nothing installed'}): run \`${c.tool} update\``
      : `${c.tool} ${c.current} is up to date (${c.channel} offers ${c.latest})`,
  ];
  if (c.minimumVersion) lines.push(`minimum version on ${c.channel}: ${c.minimumVersion}`);
  if (c.deprecation) lines.push(`versions below ${c.deprecation.below} are deprecated: ${c.deprecation.message}`);
  return lines.join('\n');
}

export function renderOutcome(o: InstallOutcome, out: ResultWriter): void {
  out.text(describeOutcome(o));
  if (o.removed.length > 0) out.text(out.paint('dim', `removed old versions: ${o.removed.join(', ')}`));
}
