#!/usr/bin/env node
// Builds the Toolbox's browser assets into dist/site/ with esbuild: the page's entry (Preact and
// the pages) and, split off, the chunk that handles keys (@peculiar/x509, PKI.js), loaded only
// when a person asks for a profile; the stylesheet; the icon; index.html pointing at their hashed
// names; a .br and a .gz beside each text asset (served pre-compressed). scripts/build.mjs runs
// this after tsc; quiet and quick when nothing changed. Nothing here is committed.
import {createHash} from 'node:crypto';
import {existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {brotliCompressSync, constants, gzipSync} from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const web = join(here, 'src', 'web');
const out = join(here, 'dist', 'site');
const stamp = join(out, '.built');

export async function buildAssets({force = false, verbose = false} = {}) {
  const inputs = [join(here, 'package.json'), join(here, 'build-assets.mjs'), join(here, '..', '..', 'pnpm-lock.yaml'), ...files(web)];
  const newest = Math.max(...inputs.filter((f) => existsSync(f)).map((f) => statSync(f).mtimeMs));
  if (!force && existsSync(stamp) && statSync(stamp).mtimeMs >= newest && complete()) return;
  const esbuild = await import('esbuild');
  rmSync(out, {recursive: true, force: true});
  const assets = join(out, 'assets');
  mkdirSync(assets, {recursive: true});
  const result = await esbuild.build({
    absWorkingDir: here,
    entryPoints: {main: join(web, 'main.tsx'), styles: join(web, 'styles.css')},
    outdir: assets,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome111', 'firefox115', 'safari16.4'],
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    entryNames: '[name]-[hash]',
    chunkNames: 'chunk-[hash]',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    metafile: true,
    logLevel: 'warning',
    define: {'process.env.NODE_ENV': '"production"'},
  });
  const outputs = Object.keys(result.metafile.outputs).map((f) => f.split('/').pop());
  const js = outputs.find((f) => /^main-.*\.js$/.test(f));
  const css = outputs.find((f) => /^styles-.*\.css$/.test(f));
  // The CSS entry also yields an empty JS stub; it is not referenced.
  for (const f of outputs) if (/^styles-.*\.js$/.test(f)) rmSync(join(assets, f));
  const iconSvg = readFileSync(join(web, 'icon.svg'));
  const icon = `icon-${createHash('sha256').update(iconSvg).digest('hex').slice(0, 8)}.svg`;
  writeFileSync(join(assets, icon), iconSvg);
  const html = readFileSync(join(web, 'index.html'), 'utf8').replaceAll('%JS%', js).replaceAll('%CSS%', css).replaceAll('%ICON%', icon);
  writeFileSync(join(out, 'index.html'), html);
  for (const f of readdirSync(assets)) {
    if (!/\.(js|css|svg)$/.test(f)) continue;
    const body = readFileSync(join(assets, f));
    writeFileSync(join(assets, `${f}.br`), brotliCompressSync(body, {params: {[constants.BROTLI_PARAM_QUALITY]: 11}}));
    writeFileSync(join(assets, `${f}.gz`), gzipSync(body, {level: 9}));
  }
  writeFileSync(stamp, '');
  if (verbose) process.stderr.write(`build: ${out}: ${readdirSync(assets).join(', ')}\n`);
}

/** Whether every asset the built page names is there (a stamp alone does not prove it). */
function complete() {
  const index = join(out, 'index.html');
  if (!existsSync(index)) return false;
  const named = [...readFileSync(index, 'utf8').matchAll(/assets\/([^"]+)"/g)].map((m) => m[1]);
  return named.length > 0 && named.every((f) => existsSync(join(out, 'assets', f)));
}

function files(dir) {
  return readdirSync(dir, {withFileTypes: true, recursive: true}).filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildAssets({force: process.argv.includes('--force'), verbose: true});
