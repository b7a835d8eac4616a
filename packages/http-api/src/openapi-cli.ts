// `bcl-openapi-diff <committed.json> <new.json>`: lists the changes between two OpenAPI
// documents; exit 1 when a client of the first can break, 2 on a usage error.
import {readFileSync} from 'node:fs';
import {compareOpenApi} from './openapi-diff.js';

export function main(argv: string[], io: {out: (s: string) => void; err: (s: string) => void}): number {
  const json = argv.includes('--json');
  const files = argv.filter((a) => a !== '--json');
  if (files.length !== 2) {
    io.err('Usage: bcl-openapi-diff [--json] <committed.json> <new.json>\n');
    return 2;
  }
  const docs = files.map((f) => {
    try {
      return JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      io.err(`Error: ${f}: ${(error as Error).message}\n`);
      return undefined;
    }
  });
  if (!docs[0] || !docs[1]) return 2;
  const changes = compareOpenApi(docs[0], docs[1]);
  const incompatible = changes.some((c) => c.kind === 'incompatible');
  if (json) io.out(`${JSON.stringify({compatible: !incompatible, changes}, null, 2)}\n`);
  else io.out(changes.length === 0 ? 'no changes\n' : changes.map((c) => `${c.kind === 'incompatible' ? 'INCOMPATIBLE' : 'compatible  '} ${c.message}\n`).join(''));
  return incompatible ? 1 : 0;
}
