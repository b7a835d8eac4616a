import {execFileSync} from 'node:child_process';
import {join} from 'node:path';
import {repoRoot} from '@bcl/testkit';
import {describe, expect, it} from 'vitest';

// A server (svapp) runs this package without oclif: importing any part of it, built as it ships,
// must load no @oclif module, not @bcl/core's index (which loads the command base), and none of
// the heavy libraries (they load inside the functions that need them).
const SUBPATHS = ['events', 'spec', 'spec/schema', 'render', 'kube', 'deploy', 'jenkins', 'observability'];

function specifiersLoadedBy(subpaths: readonly string[]): string[] {
  const script = `
    import {registerHooks} from 'node:module';
    const seen = [];
    registerHooks({resolve(specifier, context, next) { const r = next(specifier, context); seen.push(specifier + ' -> ' + r.url); return r; }});
    for (const p of ${JSON.stringify(subpaths)}) await import('@bcl/deploy-core/' + p);
    process.stdout.write(JSON.stringify(seen));
  `;
  // From a package that depends on it, as svctl and svapp resolve it.
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], {cwd: join(repoRoot, 'packages/svctl')}).toString()) as string[];
}

describe('@bcl/deploy-core imports', () => {
  const seen = specifiersLoadedBy(SUBPATHS);

  it('loads every subpath from the built package', () => {
    for (const p of SUBPATHS) expect(seen.some((s) => s.startsWith(`@bcl/deploy-core/${p} -> `) && s.includes('/packages/deploy-core/dist/'))).toBe(true);
  });

  it('loads no @oclif module and not @bcl/core as a whole', () => {
    expect(seen.filter((s) => /@oclif\/|\/oclif\//.test(s))).toEqual([]);
    expect(seen.filter((s) => s.startsWith('@bcl/core ->') || /\/bcl\/dist\/index\.js$/.test(s) || /\/bcl\/dist\/command\//.test(s))).toEqual([]);
    // What it does use of @bcl/core: the oclif-free subpaths.
    expect(seen.filter((s) => s.startsWith('@bcl/core/')).map((s) => s.split(' ')[0]).sort()).toEqual(expect.arrayContaining(['@bcl/core/errors']));
  });

  it('loads no Kubernetes client, Jenkins client, simple-git, undici or diff at import time', () => {
    expect(seen.filter((s) => /^(@kubernetes\/client-node|jenkins|simple-git|undici|diff) ->/.test(s))).toEqual([]);
  });
});
