import {cpSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {dirname, join} from 'node:path';
import {spawnSync} from 'node:child_process';
import {repoRoot} from '@bcl/testkit';

/**
 * Checks dashboard JSON against Grafana's published typed model (@grafana/schema's raw dashboard
 * and panel types, generated from Grafana's CUE schema) with the TypeScript compiler: the JSON is
 * written as an object literal typed `Dashboard`, so unknown keys, wrong types and missing
 * required fields are compile errors. Grafana declares its string-valued enums as TypeScript
 * enums, which JSON literals cannot satisfy; they are rewritten to the unions of their values.
 */
export function checkAgainstGrafanaModel(workDir: string, dashboard: unknown): {ok: boolean; errors: string} {
  const require = createRequire(join(repoRoot, 'packages/svctl/package.json'));
  const pkgRoot = dirname(require.resolve('@grafana/schema/package.json'));
  const target = join(workDir, 'node_modules/@grafana/schema');
  mkdirSync(target, {recursive: true});
  cpSync(join(pkgRoot, 'dist/types'), join(target, 'dist/types'), {recursive: true});
  for (const file of walk(join(target, 'dist/types'))) {
    if (file.endsWith('.d.ts')) writeFileSync(file, enumsToUnions(readFileSync(file, 'utf8')));
  }
  writeFileSync(join(target, 'package.json'), JSON.stringify({name: '@grafana/schema', types: 'dist/types/index.d.ts'}));
  writeFileSync(
    join(workDir, 'tsconfig.json'),
    JSON.stringify({compilerOptions: {strict: true, noEmit: true, module: 'esnext', moduleResolution: 'bundler', target: 'es2022', lib: ['es2022', 'dom'], skipLibCheck: true, types: []}, files: ['check.ts']}),
  );
  const d = dashboard as {panels?: {type: string; options?: unknown; fieldConfig?: {defaults?: {custom?: unknown}}}[]};
  const panels = d.panels ?? [];
  const of = (type: string) => panels.filter((p) => p.type === type);
  writeFileSync(
    join(workDir, 'check.ts'),
    `import type {Dashboard} from '@grafana/schema/dist/types/raw/dashboard/x/types.gen';
import type * as TimeSeries from '@grafana/schema/dist/types/raw/composable/timeseries/panelcfg/x/types.gen';
import type * as Stat from '@grafana/schema/dist/types/raw/composable/stat/panelcfg/x/types.gen';
export const dashboard: Dashboard = ${JSON.stringify(dashboard, null, 2)};
export const timeseries: {options: TimeSeries.Options; custom: TimeSeries.FieldConfig}[] = ${JSON.stringify(of('timeseries').map((p) => ({options: p.options, custom: p.fieldConfig?.defaults?.custom ?? {}})), null, 2)};
export const stats: {options: Stat.Options}[] = ${JSON.stringify(of('stat').map((p) => ({options: p.options})), null, 2)};
`,
  );
  const tsc = join(repoRoot, 'node_modules/.bin/tsc');
  const res = spawnSync(tsc, ['-p', workDir], {encoding: 'utf8'});
  return {ok: res.status === 0, errors: `${res.stdout}${res.stderr}`};
}

/** `export declare enum X { A = "a" }` -> `export type X = "a"` plus a namespace so `X.A` still names a type. */
export function enumsToUnions(dts: string): string {
  return dts.replace(/export declare enum (\w+) \{([^}]*)\}/g, (_m, name: string, body: string) => {
    let next = 0;
    const members = body
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/\/\/.*$/gm, '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((member) => {
        const eq = /^(\w+|"[^"]*")\s*=\s*([\s\S]+)$/.exec(member);
        let value: string;
        if (eq) {
          value = eq[2]!.trim();
          if (/^-?\d+$/.test(value)) next = Number(value) + 1;
        } else value = String(next++);
        return {key: (eq ? eq[1]! : member).replace(/"/g, ''), value};
      });
    const types = members.filter((m) => /^[A-Za-z_]\w*$/.test(m.key)).map((m) => `  type ${m.key} = ${m.value};`);
    return `export type ${name} = ${members.map((m) => m.value).join(' | ')};\nexport declare namespace ${name} {\n${types.join('\n')}\n}`;
  });
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}
