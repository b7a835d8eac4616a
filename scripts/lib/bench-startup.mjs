// The body of scripts/bench-startup: the commands people run, for the checkout's launchers and an
// installed release, each as a ratio to a Go CLI (kubectl) timed in the same rounds; then where
// the time goes, from CPU profiles. Prints Markdown tables (for docs/performance.md).
import {execFileSync} from 'node:child_process';
import {cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {loadavg, tmpdir} from 'node:os';
import {join} from 'node:path';
import {median} from './stats.mjs';

const root = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const [kubectl, ...rest] = process.argv.slice(2);
const withRelease = !rest.includes('--no-release');
const RUNS = Number(rest.find((a) => /^\d+$/.test(a)) ?? 20);
const PER_ROUND = Math.min(5, RUNS);
const ROUNDS = Math.max(1, Math.round(RUNS / PER_ROUND));
const PROFILES = 5;
const step = (m) => process.stderr.write(`\x1b[1m==> ${m}\x1b[0m\n`);

const work = mkdtempSync(join(tmpdir(), 'bench-startup-'));
process.on('exit', () => rmSync(work, {recursive: true, force: true}));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));
const home = join(work, 'home');
const env = {
  PATH: process.env.PATH,
  HOME: home,
  XDG_CONFIG_HOME: join(home, '.config'),
  XDG_DATA_HOME: join(home, '.local', 'share'),
  XDG_CACHE_HOME: join(home, '.cache'),
  XDG_STATE_HOME: join(home, '.local', 'state'),
  BCL_SYSTEM_CONFIG: join(work, 'etc-bcl.yaml'),
  BCL_DISABLE_UPDATE_CHECK: '1',
  CI: 'true',
  LANG: 'C.UTF-8',
};
mkdirSync(home, {recursive: true});
const run = (file, args, options = {}) => execFileSync(file, args, {env: {...env, ...options.env}, cwd: options.cwd ?? work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']});
const bin = (tool) => join(root, 'bin', tool);
const json = (text) => JSON.parse(text).result;

// ---------------------------------------------------------------------------------------------
step('fixtures: a service and a database spec, a PKI store with a certificate, an SSH certificate, a user configuration');
// A service in a git checkout of its own (render tags the image with the commit).
const svc = join(work, 'hello');
mkdirSync(svc);
cpSync(join(root, 'packages', 'svctl', 'examples', 'hello', 'service.yaml'), join(svc, 'service.yaml'));
const git = (...args) => run('git', args, {cwd: svc, env: {GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@example.com', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@example.com'}});
git('init', '-q', '-b', 'main');
git('add', '.');
git('commit', '-q', '-m', 'hello');
const dbSpec = join(work, 'db.yaml');
writeFileSync(
  dbSpec,
  `name: shop
engine: postgres
provider: local
connection: local
deletionProtection: false
databases:
  - name: shop
    schemas: [public, reporting]
access:
  - {role: app, profile: owner, databases: [shop]}
  - {role: analyst, profile: readonly, databases: [shop], schemas: [reporting]}
environments:
  prod:
    provider: gcp
    project: shop-prod
    region: europe-west1
    tier: db-custom-2-7680
    version: "16"
    highAvailability: true
`,
);
// A PKI store with three certificates; this user fetched one (csshctl authenticates with it).
const store = join(work, 'pki.git');
writeFileSync(join(work, 'pass'), 'bench passphrase\n');
const admin = ['--ca-key', join(work, 'ca.key'), '--passphrase-file', join(work, 'pass')];
const pkEnv = {env: {BCL_PKICTL_STORE: store, BCL_PKICTL_EMAIL: 'bench@example.com'}};
run(bin('pkictl'), ['ca', 'init', '--store', store, '--name', 'Bench CA', ...admin, '--email-domain', 'example.com', '--json'], pkEnv);
for (let i = 0; i < 3; i++) {
  const id = json(run(bin('pkictl'), ['request', '--json'], pkEnv)).id;
  run(bin('pkictl'), ['approve', id, ...admin, '--json'], pkEnv);
  if (i === 0) run(bin('pkictl'), ['fetch', id, '--json'], pkEnv);
}
// An SSH certificate in csshctl's slot, signed by a CA made here (status only reads it).
const slot = join(env.XDG_DATA_HOME, 'bcl', 'csshctl', 'default');
mkdirSync(slot, {recursive: true, mode: 0o700});
run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(work, 'ssh-ca')]);
run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', join(slot, 'id')]);
run('ssh-keygen', ['-q', '-s', join(work, 'ssh-ca'), '-I', 'bench@example.com', '-n', 'bench,deploy', '-V', '+8h', '-z', '42', join(slot, 'id.pub')]);
const now = Date.now();
writeFileSync(
  join(slot, 'certificate.json'),
  JSON.stringify({version: 1, slot: 'default', server: 'https://cssh.example.invalid:8443', host: null, serial: '42', keyId: 'bench@example.com', principals: ['bench', 'deploy'], validAfter: new Date(now - 60_000).toISOString(), validBefore: new Date(now + 8 * 3600_000).toISOString(), extensions: ['permit-pty'], criticalOptions: {}, sshKey: null, issuedAt: new Date(now).toISOString()}),
  {mode: 0o600},
);
// What a person's configuration holds: every tool's namespace has something in it (so every
// command builds and validates all five schemas), as kubectl below reads a kubeconfig.
for (const [key, value] of [
  ['pkictl.store', store],
  ['pkictl.email', 'bench@example.com'],
  ['svctl.clusters.staging', '{context: staging}'],
  ['svctl.clusters.prod', '{context: prod, production: true}'],
  ['dbctl.connections.local', '{engine: postgres, host: 127.0.0.1, port: 5432, user: postgres, passwordEnv: PGPASSWORD}'],
  ['dbctl.defaultConnection', 'local'],
  ['csshctl.server', 'https://cssh.example.invalid:8443'],
  ['bcl.http.timeoutSeconds', '20'],
]) {
  run(bin('bcl'), ['config', 'set', key, value, '--json']);
}
mkdirSync(join(home, '.kube'));
const cluster = (name) => `- name: ${name}\n  cluster:\n    server: https://${name}.example.invalid:6443\n    insecure-skip-tls-verify: true\n`;
writeFileSync(
  join(home, '.kube', 'config'),
  `apiVersion: v1\nkind: Config\nclusters:\n${cluster('staging')}${cluster('prod')}contexts:\n- name: staging\n  context: {cluster: staging, user: bench}\n- name: prod\n  context: {cluster: prod, user: bench}\ncurrent-context: staging\nusers:\n- name: bench\n  user: {token: not-a-real-token}\n`,
);

/** The commands, as run from one launcher directory (bin/<tool> or the installed shims). */
function commands(launch) {
  return [
    {name: 'bcl config list', argv: [launch('bcl'), 'config', 'list']},
    {name: 'svctl validate', argv: [launch('svctl'), 'validate', svc]},
    {name: 'svctl render --env staging', argv: [launch('svctl'), 'render', '--env', 'staging', svc]},
    {name: 'dbctl validate', argv: [launch('dbctl'), 'validate', '-f', dbSpec]},
    {name: 'pkictl list', argv: [launch('pkictl'), 'list']},
    {name: 'csshctl status', argv: [launch('csshctl'), 'status']},
  ];
}
function startup(launch) {
  return ['bcl', 'svctl', 'dbctl', 'pkictl', 'csshctl'].flatMap((tool) => [
    {name: `${tool} --version`, argv: [launch(tool), '--version']},
    {name: `${tool} --help`, argv: [launch(tool), '--help']},
  ]);
}
for (const c of [...commands(bin), ...startup(bin)]) {
  const out = run(c.argv[0], c.argv.slice(1));
  if (!out.trim()) throw new Error(`${c.name} printed nothing`);
}

// ---------------------------------------------------------------------------------------------
let shims;
if (withRelease) {
  step('an installed release: bcl release build, publish to a directory store, bcl install (its Node runtime is cached)');
  const platform = `${process.platform}-${process.arch}`;
  const buildEnv = {env: {XDG_CACHE_HOME: process.env.BCL_BUILD_CACHE ?? env.XDG_CACHE_HOME}};
  execFileSync(bin('bcl'), ['release', 'build', '--platform', platform, '--out', join(work, 'release'), '--json'], {env: {...env, ...buildEnv.env}, stdio: ['ignore', 'ignore', 'inherit']});
  const key = json(run(bin('bcl'), ['release', 'keygen', '--out', join(work, 'release.pem'), '--json'])).trustedKey;
  run(bin('bcl'), ['release', 'publish', '--store', join(work, 'store'), '--channel', 'stable', '--key', join(work, 'release.pem'), join(work, 'release'), '--json']);
  run(bin('bcl'), ['config', 'set', 'bcl.update.store', join(work, 'store'), '--json']);
  run(bin('bcl'), ['config', 'set', 'bcl.update.trustedKeys', key, '--json']);
  for (const tool of ['bcl', 'svctl', 'dbctl', 'pkictl', 'csshctl']) run(bin('bcl'), ['install', tool, '--json']);
  shims = (tool) => join(env.XDG_DATA_HOME, 'bcl', 'bin', tool);
  for (const c of [...commands(shims), ...startup(shims)]) run(c.argv[0], c.argv.slice(1));
}

// ---------------------------------------------------------------------------------------------
const kubectlView = {name: 'kubectl config view', argv: [kubectl, 'config', 'view']};
const kubectlVersion = {name: 'kubectl version --client', argv: [kubectl, 'version', '--client']};
const sets = [
  {title: 'checkout (bin/<tool>)', work: commands(bin), startup: startup(bin)},
  ...(shims ? [{title: 'installed release (shims in $XDG_DATA_HOME/bcl/bin)', work: commands(shims), startup: startup(shims)}] : []),
];
const all = [kubectlView, kubectlVersion, ...sets.flatMap((s) => [...s.work, ...s.startup])];
const times = new Map(all.map((c) => [c, {wall: [], cpu: []}]));
const load = [loadavg()[0]];
step(`timing ${all.length} commands: ${ROUNDS} rounds of ${PER_ROUND} runs each, every command once per round (hyperfine)`);
const quote = (a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
for (let round = 0; round < ROUNDS; round++) {
  const out = join(work, `round-${round}.json`);
  execFileSync('hyperfine', ['-N', '--style', 'none', '--warmup', '2', '--runs', String(PER_ROUND), '--export-json', out, ...all.map((c) => c.argv.map(quote).join(' '))], {env, cwd: work, stdio: ['ignore', 'ignore', 'inherit']});
  const {results} = JSON.parse(readFileSync(out, 'utf8'));
  results.forEach((r, i) => {
    const t = times.get(all[i]);
    t.wall.push(...r.times.map((s) => s * 1000));
    t.cpu.push((r.user + r.system) * 1000);
  });
  load.push(loadavg()[0]);
}

const stat = (c) => ({wall: median(times.get(c).wall), cpu: median(times.get(c).cpu)});
const row = (c, ref, target) => {
  const s = stat(c);
  const r = stat(ref);
  const ratio = s.wall / r.wall;
  return `| \`${c.name}\` | ${s.wall.toFixed(1)} | ${s.cpu.toFixed(1)} | ${ratio.toFixed(2)}x | ${(s.cpu / r.cpu).toFixed(2)}x | ${ratio <= target ? `≤ ${target.toFixed(1)}x ✓` : `≤ ${target.toFixed(1)}x ✗`} |`;
};
const header = '| command | median wall (ms) | CPU user+sys (ms) | ratio (wall) | ratio (CPU) | target |\n| --- | --- | --- | --- | --- | --- |';
const refRow = (c) => `| \`${c.name}\` | ${stat(c).wall.toFixed(1)} | ${stat(c).cpu.toFixed(1)} | 1.00x | 1.00x | |`;
console.log(`\n${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${ROUNDS * PER_ROUND} runs per command in ${ROUNDS} rounds; load average ${load.map((l) => l.toFixed(1)).join(' → ')}`);
for (const s of sets) {
  console.log(`\n### ${s.title}: commands that work, against \`kubectl config view\`\n\n${header}\n${refRow(kubectlView)}`);
  for (const c of s.work) console.log(row(c, kubectlView, 2));
  console.log(`\n### ${s.title}: \`--version\` and \`--help\`, against \`kubectl version --client\`\n\n${header}\n${refRow(kubectlVersion)}`);
  for (const c of s.startup) console.log(row(c, kubectlVersion, 1));
}

// ---------------------------------------------------------------------------------------------
step(`where the time goes: ${PROFILES} CPU profiles of each command (checkout)`);
const bundleLines = new Map();
/** The module a line of a bundled file belongs to, from esbuild's `// <path>` comments. */
function moduleAt(url, line) {
  const file = url.replace(/^file:\/\//, '');
  if (!bundleLines.has(file)) {
    const marks = [];
    try {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((text, i) => {
          const m = /^\/\/ (\S+\.(?:c|m)?js)$/.exec(text);
          if (m) marks.push([i, m[1]]);
        });
    } catch {
      // not a file
    }
    bundleLines.set(file, marks);
  }
  const marks = bundleLines.get(file);
  let found;
  for (const [at, path] of marks) {
    if (at > line) break;
    found = path;
  }
  return found;
}
function packageOf(path) {
  if (!path) return undefined;
  const nm = path.lastIndexOf('node_modules/');
  if (nm !== -1) {
    const parts = path.slice(nm + 'node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const pkg = /^(?:\.\.\/)*(?:packages\/([^/]+)|(bcl))\//.exec(path);
  return pkg ? (pkg[2] ? '@bcl/core' : `@bcl/${pkg[1]}`) : undefined;
}
const PHASES = [
  ['garbage collection', (leaf) => leaf.functionName === '(garbage collector)'],
  ['waiting (child processes, files)', (leaf) => leaf.functionName === '(idle)'],
  ['loading the bundle (read, V8 code cache)', (_, names) => names.has('loadBundle') && !names.has('__init') && !names.has('__require')],
  ['evaluating modules', (_, names) => names.has('__init') || names.has('__require') || names.has('evaluate')],
  ['configuration (layers, validation)', (_, names) => names.has('loadConfig') || names.has('configNamespaces')],
  ['the command', (_, names) => names.has('run') && names.has('_run')],
  ['output', (_, names) => names.has('emitResult') || names.has('renderResult')],
  ['Node start and built-ins', (leaf) => leaf.url.startsWith('node:') || leaf.functionName === '(program)' || leaf.url === ''],
  ['other', () => true],
];
const breakdown = [];
for (const c of sets[0].work) {
  const dir = join(work, 'profiles', c.name.replace(/\W+/g, '-'));
  for (let i = 0; i < PROFILES; i++) run(c.argv[0], c.argv.slice(1), {env: {NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir} --cpu-prof-interval=250`}});
  const phases = new Map();
  const packages = new Map();
  let total = 0;
  const files = new Set();
  for (const f of readdirSync(dir)) {
    const p = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map();
    for (const n of p.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
    for (const n of p.nodes) if (n.callFrame.url.startsWith('file://')) files.add(n.callFrame.url);
    p.samples.forEach((id, i) => {
      const dt = p.timeDeltas[i] ?? 0;
      total += dt;
      const leaf = byId.get(id).callFrame;
      const names = new Set();
      for (let at = id; at !== undefined; at = parent.get(at)) names.add(byId.get(at).callFrame.functionName);
      const phase = PHASES.find(([, test]) => test(leaf, names))[0];
      phases.set(phase, (phases.get(phase) ?? 0) + dt);
      const pkg = leaf.url.startsWith('file://') ? (packageOf(moduleAt(leaf.url, leaf.lineNumber)) ?? 'the launcher') : leaf.url.startsWith('node:') ? 'Node built-ins' : leaf.functionName.replace(/[()]/g, '');
      packages.set(pkg, (packages.get(pkg) ?? 0) + dt);
    });
  }
  const cpu = stat(c).cpu;
  const share = (m) => [...m].sort((a, b) => b[1] - a[1]).map(([k, t]) => [k, (t / total) * cpu]);
  breakdown.push({name: c.name, cpu, files: files.size, phases: share(phases), packages: share(packages).slice(0, 6)});
}
console.log(`\n### Where the time goes (checkout; CPU profiles, shares of each command's CPU time above)\n`);
console.log('| command | CPU (ms) | JS files | by phase (ms) | by package, leaf frames (ms) |\n| --- | --- | --- | --- | --- |');
const list = (xs) => xs.filter(([, t]) => t >= 0.5).map(([k, t]) => `${k} ${t.toFixed(1)}`).join('; ');
for (const b of breakdown) console.log(`| \`${b.name}\` | ${b.cpu.toFixed(1)} | ${b.files} | ${list(b.phases)} | ${list(b.packages)} |`);
if (!existsSync(kubectl)) process.exitCode = 1;
