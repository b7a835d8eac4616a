// The measuring part of scripts/bench-svapp (which starts the cluster). svapp, PostgreSQL and the
// PKI come from the testkit harnesses the tests use; each side deploys to a namespace of its own,
// a new image every round, rounds interleaved so load changes hit every side alike.
import {execFileSync, spawnSync} from 'node:child_process';
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {isolatedHome, startSvappOnCluster, svctlServerHome} from '../../packages/testkit/dist/index.js';
import {median} from './stats.mjs';

const [work, roundsArg] = process.argv.slice(2);
const rounds = Number(roundsArg);
const root = new URL('../..', import.meta.url).pathname;
const svctlBin = join(root, 'bin', 'svctl');
const kubeconfig = process.env.KUBECONFIG;

function run(cmd, args, options = {}) {
  const started = process.hrtime.bigint();
  const r = spawnSync(cmd, args, {encoding: 'utf8', ...options});
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return {ms, stdout: r.stdout};
}
const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;

/** The sample service, deploying to `bench` (svctl: direct or through svapp) and `kubectl` (for the rendered manifests). */
function serviceDir(name, replicas = 3) {
  const dir = join(work, 'services', name);
  mkdirSync(dir, {recursive: true});
  const example = readFileSync(join(root, 'packages/svctl/examples/hello/service.yaml'), 'utf8');
  const spec = example
    .replace(/^name: hello$/m, `name: ${name}`)
    .replace(/^environments:[\s\S]*$/m, `environments:\n  svapp:\n    namespace: bench-svapp\n    replicas: ${replicas}\n  direct:\n    namespace: bench-direct\n    replicas: ${replicas}\n  kubectl:\n    namespace: bench-kubectl\n    replicas: ${replicas}\n`);
  writeFileSync(join(dir, 'service.yaml'), spec);
  return {dir, spec};
}

const names = Array.from({length: 20}, (_, i) => `svc${String(i + 1).padStart(2, '0')}`);
const hello = serviceDir('hello');
const many = names.map((n) => serviceDir(n, 2));
const svapp = await startSvappOnCluster(kubeconfig, {
  clusters: ['svapp'],
  catalog: Object.fromEntries([['hello', hello.spec], ...names.map((n, i) => [n, many[i].spec])]),
});
try {
  const server = await svctlServerHome(svapp, svapp.replicas[0].url);
  const direct = isolatedHome();
  mkdirSync(join(direct.xdg.config, 'bcl'), {recursive: true});
  writeFileSync(join(direct.xdg.config, 'bcl', 'config.yaml'), 'svctl:\n  clusters:\n    direct: {context: bcl-local}\n    kubectl: {context: bcl-local}\n');
  const through = (args, cwd) => run(svctlBin, ['deploy', '--env', 'svapp', '-q', ...args], {cwd, env: {...process.env, ...server.cliEnv}});
  const locally = (args, cwd) => run(svctlBin, ['deploy', '--env', 'direct', '-q', ...args], {cwd, env: {...process.env, ...direct.env, KUBECONFIG: kubeconfig}});

  // 1. One service. First deploys (object creation) are not measured.
  run('kubectl', ['create', 'namespace', 'bench-kubectl']);
  through(['--image-tag', 'warmup'], hello.dir);
  locally(['--image-tag', 'warmup'], hello.dir);
  const manifests = (tag) => {
    const file = join(work, `kubectl-${tag}.yaml`);
    writeFileSync(file, run(svctlBin, ['render', '--env', 'kubectl', '--image-tag', tag], {cwd: hello.dir, env: {...process.env, ...direct.env}}).stdout);
    return file;
  };
  run('kubectl', ['apply', '--server-side', '-f', manifests('warmup')]);
  run('kubectl', ['rollout', 'status', 'deployment/hello', '-n', 'bench-kubectl', '--timeout=60s']);
  const times = {kubectl: [], svapp: [], direct: []};
  for (let i = 1; i <= rounds; i++) {
    const file = manifests(`k${i}`); // rendering is not part of kubectl's time
    times.kubectl.push(run('bash', ['-c', `kubectl apply --server-side -f "${file}" >/dev/null && kubectl rollout status deployment/hello -n bench-kubectl --timeout=60s >/dev/null`]).ms);
    times.svapp.push(through(['--image-tag', `s${i}`], hello.dir).ms);
    times.direct.push(locally(['--image-tag', `d${i}`], hello.dir).ms);
  }

  // 2. Twenty services in one call.
  const dirs = many.map((m) => m.dir);
  through(['--image-tag', 'warmup', ...dirs], work);
  locally(['--image-tag', 'warmup', ...dirs], work);
  const twenty = {svapp: [], direct: []};
  for (let i = 1; i <= 2; i++) {
    twenty.svapp.push(through(['--image-tag', `p${i}`, ...dirs], work).ms);
    twenty.direct.push(locally(['--image-tag', `q${i}`, ...dirs], work).ms);
  }

  const versions = JSON.parse(execFileSync('kubectl', ['version', '--client', '-o', 'json'], {encoding: 'utf8'}));
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const k = median(times.kubectl);
  console.log(`kubectl ${versions.clientVersion.gitVersion}, ${rounds} rounds, medians; every round rolls out a new image of 3 replicas; load average at the end: ${load}`);
  console.log('');
  console.log('| what | time | ratio to kubectl |');
  console.log('| --- | --- | --- |');
  console.log(`| \`kubectl apply --server-side\` + \`kubectl rollout status\` (sample service) | ${fmt(k)} | 1.00x |`);
  console.log(`| \`svctl deploy\` through svapp (sample service) | ${fmt(median(times.svapp))} | ${(median(times.svapp) / k).toFixed(2)}x |`);
  console.log(`| \`svctl deploy\` direct mode (sample service) | ${fmt(median(times.direct))} | ${(median(times.direct) / k).toFixed(2)}x |`);
  console.log(`| one \`svctl deploy\` of 20 services through svapp (2 replicas each) | ${fmt(median(twenty.svapp))} | |`);
  console.log(`| one \`svctl deploy\` of 20 services in direct mode | ${fmt(median(twenty.direct))} | |`);
  server.remove();
  direct.remove();
} finally {
  await svapp.stop();
}
