#!/usr/bin/env node
// Builds the workspace: TypeScript project references, then for every oclif package its command
// manifest (oclif.manifest.json) and its help pages pre-rendered by oclif's own Help class
// (dist/help.json), so `--help` answers without loading oclif. Quiet and quick when up to date.
import {execFileSync} from 'node:child_process';
import {existsSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs';
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
  if (dir === join(root, 'bcl')) pages[''] = withToolsSection(pages[''] ?? '');
  writeFileSync(helpFile, JSON.stringify(pages));
  if (verbose) process.stderr.write(`build: ${dir}: ${Object.keys(manifest.commands).length} commands\n`);
}

/** The bcl host's root help also lists the tools it mounts (`bcl svctl ...` is `svctl ...`). */
function withToolsSection(page) {
  const tools = ['svctl', 'dbctl', 'pkictl', 'csshctl']
    .map((t) => join(root, 'packages', t, 'package.json'))
    .filter((f) => existsSync(f))
    .map((f) => JSON.parse(readFileSync(f, 'utf8')));
  if (tools.length === 0) return page;
  const width = Math.max(...tools.map((t) => t.oclif.bin.length));
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
  const lines = tools.map((t) => `  ${t.oclif.bin.padEnd(width)}  ${wrap(t.description, width + 4)}`);
  const section = `TOOLS (bcl <tool> ... runs the tool, e.g. bcl svctl deploy)\n${lines.join('\n')}\n\n`;
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
