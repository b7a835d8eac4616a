#!/usr/bin/env node
// Type-checks the whole workspace: the sources (tsc -b, project references) and every package's
// tests (its tsconfig.test.json: src and test, no output), which the build never compiles.
import {execFileSync} from 'node:child_process';
import {existsSync, readdirSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const tsc = join(root, 'node_modules', '.bin', 'tsc');
const projects = [join(root, 'bcl'), ...readdirSync(join(root, 'packages')).map((p) => join(root, 'packages', p))]
  .map((dir) => join(dir, 'tsconfig.test.json'))
  .filter((file) => existsSync(file));

let failed = 0;
for (const args of [['-b'], ...projects.map((p) => ['-p', p])]) {
  try {
    execFileSync(tsc, args, {cwd: root, stdio: 'inherit'});
  } catch {
    failed++;
  }
}
if (failed > 0) {
  process.stderr.write(`typecheck: ${failed} project(s) with type errors\n`);
  process.exit(1);
}
