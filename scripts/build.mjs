#!/usr/bin/env node
// Builds the workspace: TypeScript project references, then for every oclif package its command
// manifest (oclif.manifest.json) and its help pages pre-rendered by oclif's own Help class
// (dist/help.json), so `--help` answers without loading oclif. Quiet and quick when up to date.
import {execFileSync} from 'node:child_process';
import {existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {dirname, join} from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const verbose = process.argv.includes('--verbose');
// `node scripts/build.mjs bcl packages/svctl` builds only those projects (and what they reference).
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));

const tsc = join(root, 'node_modules', '.bin', 'tsc');
try {
  execFileSync(tsc, ['-b', ...(verbose ? ['--verbose'] : []), ...only], {cwd: root, stdio: 'inherit'});
} catch {
  process.stderr.write('build: TypeScript compilation failed\n');
  process.exit(1);
}

// tsc never deletes what a removed or moved source compiled to; oclif would still find a stale
// command in dist/commands, so outputs without their source go.
for (const dir of [join(root, 'bcl'), ...readdirSync(join(root, 'packages')).map((p) => join(root, 'packages', p))]) pruneStaleOutputs(dir);

// Packages with browser assets (a build-assets.mjs at their root, e.g. the PKI Toolbox) build them
// with esbuild after tsc; each is quick when its sources did not change.
for (const dir of readdirSync(join(root, 'packages')).map((p) => join(root, 'packages', p))) {
  const script = join(dir, 'build-assets.mjs');
  if (!existsSync(script) || (only.length > 0 && !only.some((o) => join(root, o) === dir))) continue;
  try {
    const {buildAssets} = await import(pathToFileURL(script).href);
    await buildAssets({verbose});
  } catch (error) {
    process.stderr.write(`build: ${script}: ${error.message}\n`);
    process.exit(1);
  }
}

const packages = [join(root, 'bcl'), ...readdirSync(join(root, 'packages')).map((p) => join(root, 'packages', p))].filter((dir) => {
  const file = join(dir, 'package.json');
  if (only.length > 0 && !only.some((o) => join(root, o) === dir)) return false;
  return existsSync(file) && JSON.parse(readFileSync(file, 'utf8')).oclif;
});

for (const dir of packages) {
  const manifestFile = join(dir, 'oclif.manifest.json');
  const helpFile = join(dir, 'dist', 'help.json');
  const newest = newestMtime(join(dir, 'dist'), helpFile);
  const pjsonTime = statSync(join(dir, 'package.json')).mtimeMs;
  if (existsSync(manifestFile) && existsSync(helpFile) && statSync(helpFile).mtimeMs >= Math.max(newest, pjsonTime)) continue;
  // Each package resolves its own @oclif/core.
  const require = createRequire(join(dir, 'package.json'));
  const oclif = await import(pathToFileURL(require.resolve('@oclif/core')).href);
  const plugin = new oclif.Plugin({root: dir, type: 'core', ignoreManifest: true, errorOnManifestCreate: true});
  await plugin.load();
  const manifest = plugin.manifest;
  writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  const pages = await renderHelp(oclif, dir);
  if (dir === join(root, 'bcl')) pages[''] = await withHostedPackages(pages[''] ?? '');
  writeFileSync(helpFile, JSON.stringify(pages));
  if (verbose) process.stderr.write(`build: ${dir}: ${Object.keys(manifest.commands).length} commands\n`);
}

// Checkout bundles (<package>/.bundle): the launchers in bin/ run bcl and the tools from one
// esbuild bundle each, as releases do, because resolving and loading hundreds of modules from
// node_modules costs more than a fast command's whole budget (docs/performance.md). Rebuilt when
// any package's compiled output, a manifest or the lockfile is newer than the bundle.
if (only.length === 0 && !process.env.BCL_NO_CHECKOUT_BUNDLES) await writeCheckoutBundles();

async function writeCheckoutBundles() {
  const {bundleOclifPackage} = await import(pathToFileURL(join(root, 'packages', 'release', 'dist', 'bundle.js')).href);
  const {workspacePackages} = await import(pathToFileURL(join(root, 'bcl', 'dist', 'tools.js')).href);
  const tools = workspacePackages(root).filter((p) => p.pjson.bcl?.tool && p.pjson.oclif?.bin);
  const configOf = (p) => (p.pjson.bcl?.config ? join(p.root, p.pjson.bcl.config) : undefined);
  const inputs = [join(root, 'pnpm-lock.yaml'), join(root, 'bcl', 'dist', '.tsbuildinfo'), ...readdirSync(join(root, 'packages')).map((d) => join(root, 'packages', d, 'dist', '.tsbuildinfo'))];
  const targets = [{root: join(root, 'bcl'), siblings: tools}, ...tools.map((t) => ({root: t.root, siblings: tools.filter((o) => o.root !== t.root)}))];
  for (const target of targets) {
    const out = join(target.root, '.bundle');
    const stamp = join(out, '.built');
    const newest = Math.max(...[...inputs, join(target.root, 'oclif.manifest.json'), join(target.root, 'dist', 'help.json')].filter((f) => existsSync(f)).map((f) => statSync(f).mtimeMs));
    if (existsSync(stamp) && statSync(stamp).mtimeMs >= newest) continue;
    const siblingConfigs = Object.fromEntries(target.siblings.map((t) => [t.pjson.oclif.bin, configOf(t)]).filter(([, file]) => file));
    await bundleOclifPackage({packageRoot: target.root, outDir: out, workspaceRoot: root, siblingConfigs, checkout: root});
    writeFileSync(stamp, '');
    if (verbose) process.stderr.write(`build: ${out}\n`);
  }
}

/**
 * The bcl host's root help also lists what it runs from other packages, found by their "bcl"
 * section as the host itself finds them (bcl/src/tools.ts): the tools it mounts (`bcl svctl ...`
 * is `svctl ...`) and the topics served by a package of the checkout (`bcl release ...`).
 */
async function withHostedPackages(page) {
  const {workspacePackages} = await import(pathToFileURL(join(root, 'bcl', 'dist', 'tools.js')).href);
  const found = workspacePackages(root);
  const tools = found.filter((p) => p.pjson.bcl.tool && p.pjson.oclif?.bin).map((p) => ({name: p.pjson.oclif.bin, text: p.pjson.description ?? ''}));
  const topics = found
    .filter((p) => p.pjson.bcl.hostTopic)
    .map((p) => ({name: p.pjson.bcl.hostTopic, text: p.pjson.oclif?.topics?.[p.pjson.bcl.hostTopic]?.description ?? p.pjson.description ?? ''}));
  const wrap = (text, indent) => {
    const out = [];
    let line = '';
    for (const word of text.split(' ')) {
      if (line && indent + line.length + 1 + word.length > 100) {
        out.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    out.push(line);
    return out.join(`\n${' '.repeat(indent)}`);
  };
  const rows = (entries, width) => entries.map((t) => `  ${t.name.padEnd(width)}  ${wrap(t.text, width + 4)}`);
  if (topics.length > 0) {
    // Into oclif's TOPICS section, in order, aligned with its entries.
    const at = page.indexOf('TOPICS\n');
    const end = at === -1 ? -1 : page.indexOf('\n\n', at);
    const existing = at === -1 ? [] : page.slice(at + 'TOPICS\n'.length, end === -1 ? undefined : end).split('\n').filter(Boolean);
    const names = existing.filter((l) => /^  \S/.test(l)).map((l) => l.trim().split(/\s+/)[0]);
    const width = Math.max(...names.map((n) => n.length), ...topics.map((t) => t.name.length));
    const entries = [];
    for (const line of existing) {
      if (/^  \S/.test(line)) {
        const name = line.trim().split(/\s+/)[0];
        entries.push({name, text: line.trim().slice(name.length).trim()});
      } else entries[entries.length - 1].text += ` ${line.trim()}`;
    }
    for (const t of topics) if (!entries.some((e) => e.name === t.name)) entries.push(t);
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    const section = `TOPICS\n${rows(entries, width).join('\n')}`;
    page = at === -1 ? `${page}\n${section}\n` : page.slice(0, at) + section + (end === -1 ? '\n' : page.slice(end));
  }
  if (tools.length === 0) return page;
  const width = Math.max(...tools.map((t) => t.name.length));
  const section = `TOOLS (bcl <tool> ... runs the tool, e.g. bcl svctl deploy)\n${rows(tools, width).join('\n')}\n\n`;
  const at = page.indexOf('TOPICS\n');
  return at === -1 ? page + '\n' + section : page.slice(0, at) + section + page.slice(at);
}

async function renderHelp(oclif, dir) {
  process.env.OCLIF_COLUMNS ??= '100';
  const config = await oclif.Config.load({root: dir});
  const pages = {};
  const ids = [''];
  for (const command of config.commands) if (!command.hidden) ids.push(command.id);
  for (const topic of config.topics) if (!ids.includes(topic.name)) ids.push(topic.name);
  for (const id of ids) {
    const help = new oclif.Help(config, {stripAnsi: true});
    const argv = id === '' ? [] : id.split(':');
    pages[id] = await capture(() => help.showHelp(argv));
  }
  return pages;
}

async function capture(fn) {
  const write = process.stdout.write;
  let out = '';
  process.stdout.write = (chunk, ...rest) => {
    out += String(chunk);
    const cb = rest.find((r) => typeof r === 'function');
    if (cb) cb();
    return true;
  };
  try {
    await fn();
  } finally {
    process.stdout.write = write;
  }
  return out;
}

function pruneStaleOutputs(dir) {
  const dist = join(dir, 'dist');
  if (!existsSync(join(dir, 'src')) || !existsSync(dist)) return;
  for (const entry of readdirSync(dist, {withFileTypes: true, recursive: true})) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath ?? entry.path, entry.name);
    // dist/site holds browser assets a package's build-assets.mjs bundled: they have no .ts of their own.
    if (file.startsWith(join(dist, 'site') + '/')) continue;
    const m = /^(.*)\.(js|js\.map|d\.ts|d\.ts\.map)$/.exec(file.slice(dist.length + 1));
    if (!m) continue;
    const source = join(dir, 'src', m[1]);
    if (!existsSync(`${source}.ts`) && !existsSync(`${source}.tsx`) && !existsSync(`${source}.mts`)) rmSync(file, {force: true});
  }
}

function newestMtime(dir, skip) {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, {withFileTypes: true, recursive: true})) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath ?? entry.path, entry.name);
    if (file === skip) continue;
    newest = Math.max(newest, statSync(file).mtimeMs);
  }
  return newest;
}
