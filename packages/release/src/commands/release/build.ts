import {existsSync, readFileSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {BclCommand, conflict, Flags, invalidInput, type ResultWriter} from '@bcl/core';

export interface ReleaseBuildResult {
  out: string;
  commit: string;
  artifacts: {tool: string; version: string; platform: string; file: string; sha256: string; size: number; node: string}[];
}

export default class ReleaseBuild extends BclCommand<typeof ReleaseBuild> {
  static override summary = 'Build self-contained release tarballs: each tool bundled with its Node runtime.';
  static override description = `Per tool and platform, one <tool>-<version>-<platform>.tar.gz: the tool and its production dependencies bundled by esbuild, Node from the npm registry's node-<platform> package (integrity-checked, cached in $XDG_CACHE_HOME/bcl/runtimes), and a launcher. The same commit always gives byte-identical tarballs (SOURCE_DATE_EPOCH, else the commit time, is every entry's mtime). Runs from a checkout. Writes <out>/build.json for \`bcl release publish\`.`;
  static override examples = [
    '<%= config.bin %> release build --out dist/release',
    '<%= config.bin %> release build --tool svctl --platform linux-x64 --out /tmp/rel',
    '<%= config.bin %> release build --set-version 1.5.0-beta.1 --out /tmp/rel',
    '<%= config.bin %> release build --platform darwin-x64 --node-version darwin-x64=24.18.1 --out /tmp/rel',
  ];
  static override flags = {
    tool: Flags.string({summary: 'A tool to build (repeatable; default: bcl and every tool).', multiple: true, multipleNonGreedy: true}),
    platform: Flags.string({summary: 'Platforms, comma-separated (default: linux-x64,linux-arm64).', multiple: true, multipleNonGreedy: true}),
    out: Flags.string({summary: 'The build directory.', required: true}),
    'set-version': Flags.string({summary: "Stamp this version instead of each package.json's (e.g. 1.5.0-beta.1)."}),
    'node-version': Flags.string({summary: 'The bundled Node: <version> for every platform, or <platform>=<version> (repeatable; default: the pinned toolchain Node).', multiple: true, multipleNonGreedy: true}),
  };

  async run(): Promise<ReleaseBuildResult> {
    // This package is <workspace>/packages/release.
    const ws = dirname(dirname(this.config.root));
    if (!existsSync(join(ws, 'pnpm-workspace.yaml')) || !existsSync(join(ws, 'scripts', 'build.mjs'))) {
      throw conflict('release.needs_checkout', `bcl release build runs from a BCL checkout; this bcl runs from ${this.config.root}`, {
        hint: 'Clone the repository, run ./scripts/bootstrap, then bin/bcl release build.',
      });
    }
    const [{buildReleases, releasableTools}, {parsePlatforms, DEFAULT_PLATFORMS, isPlatform, isValidVersion}, {npmRegistry}] = await Promise.all([
      import('../../build.js'),
      import('@bcl/core/distribution'),
      import('../../runtime.js'),
    ]);
    const version = this.flags['set-version'];
    if (version !== undefined && !isValidVersion(version)) {
      throw invalidInput('release.version', `--set-version: "${version}" is not a semantic version`, {hint: 'Use e.g. 1.4.0 or 1.5.0-beta.1.'});
    }
    const platforms = this.flags.platform ? parsePlatforms(this.flags.platform) : [...DEFAULT_PLATFORMS];
    const pinned = pinnedNode(ws);
    const perPlatform = new Map<string, string>();
    let all = pinned;
    for (const spec of this.flags['node-version'] ?? []) {
      const [left, right] = spec.includes('=') ? spec.split('=', 2) : [undefined, spec];
      if (!right || !isValidVersion(right) || (left !== undefined && !isPlatform(left))) {
        throw invalidInput('release.node_version', `--node-version: expected <version> or <platform>=<version>, got "${spec}"`);
      }
      if (left) perPlatform.set(left, right);
      else all = right;
    }
    const out = resolve(this.ctx.cwd, this.flags.out);
    const record = await buildReleases(
      {
        workspaceRoot: ws,
        tools: this.flags.tool ?? releasableTools(ws),
        platforms,
        outDir: out,
        ...(version ? {version} : {}),
        nodeVersion: (p) => perPlatform.get(p) ?? all,
      },
      {
        http: this.ctx.http({timeoutMs: 120_000}),
        registry: npmRegistry(this.ctx.env),
        runtimeCache: join(this.ctx.paths.cache, 'runtimes'),
        runner: this.ctx.runner,
        ui: this.ctx.ui,
        env: this.ctx.env,
        signal: this.ctx.signal,
      },
    );
    return {
      out,
      commit: record.commit,
      artifacts: record.tools.flatMap((t) => t.artifacts.map((a) => ({tool: t.tool, version: t.version, ...a}))),
    };
  }

  protected override renderResult(result: ReleaseBuildResult, out: ResultWriter): void {
    out.table(result.artifacts, [
      {header: 'TOOL', get: (a) => a.tool},
      {header: 'VERSION', get: (a) => a.version},
      {header: 'PLATFORM', get: (a) => a.platform},
      {header: 'SIZE', get: (a) => `${(a.size / 1024 / 1024).toFixed(1)} MiB`},
      {header: 'SHA256', get: (a) => a.sha256.slice(0, 16)},
      {header: 'FILE', get: (a) => a.file},
    ]);
    out.text(`${out.paint('dim', `in ${result.out} (commit ${result.commit.slice(0, 12)}); publish with: bcl release publish --store <store> --channel <channel> --key <key> ${result.out}`)}`);
  }
}

/** The Node version the toolchain pins (BCL_NODE_VERSION in scripts/lib/common.sh). */
function pinnedNode(ws: string): string {
  const text = readFileSync(join(ws, 'scripts', 'lib', 'common.sh'), 'utf8');
  const m = /^BCL_NODE_VERSION="([^"]+)"/m.exec(text);
  return m?.[1] ?? process.versions.node;
}
