import {join} from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {describe, expect, it} from 'vitest';
import {bclNamespace} from '../src/config/bcl-namespace.js';
import type {ConfigNamespace} from '../src/config/namespace.js';
import {workspacePackages} from '../src/tools.js';

// An unset namespace takes the defaults it declares instead of building its schema (startup
// time); they must be exactly what the schema makes of {}. The tools are found as bcl finds them.
const workspace = fileURLToPath(new URL('../..', import.meta.url));
const tools = workspacePackages(workspace).filter((p) => p.pjson.bcl?.tool && p.pjson.bcl.config);

async function namespaces(): Promise<ConfigNamespace[]> {
  const found = await Promise.all(tools.map(async (p) => ((await import(pathToFileURL(join(p.root, p.pjson.bcl!.config!)).href)) as {default: ConfigNamespace}).default));
  return [bclNamespace, ...found];
}

describe('declared namespace defaults', () => {
  it('finds every namespace', async () => {
    expect((await namespaces()).map((ns) => ns.name).sort()).toEqual(['bcl', 'csshctl', 'dbctl', 'pkictl', 'svctl']);
  });

  it('are what the schema makes of an unset namespace', async () => {
    for (const ns of await namespaces()) {
      expect(ns.defaults, ns.name).toBeDefined();
      expect(ns.defaults, ns.name).toEqual(ns.schema.parse({}));
    }
  });
});
