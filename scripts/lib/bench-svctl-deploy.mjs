// The measuring part of scripts/bench-svctl-deploy (which starts the cluster and the environment).
// Both sides roll out a new image each round, in namespaces of their own, so neither ever
// finds the work done; rounds alternate the two sides.
import {execFileSync, spawnSync} from 'node:child_process';
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {median} from './stats.mjs';

const [work, roundsArg] = process.argv.slice(2);
const rounds = Number(roundsArg);
const root = new URL('../..', import.meta.url).pathname;
const svctlBin = join(root, 'bin', 'svctl');

function run(cmd, args, options = {}) {
  const started = process.hrtime.bigint();
  const r = spawnSync(cmd, args, {encoding: 'utf8', ...options});
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return {ms, stdout: r.stdout};
}

function serviceDir(name, replicas = 3) {
  const dir = join(work, 'services', name);
  mkdirSync(dir, {recursive: true});
  const example = readFileSync(join(root, 'packages/svctl/examples/hello/service.yaml'), 'utf8');
  const spec = example
    .replace(/^name: hello$/m, `name: ${name}`)
    .replace(/^environments:[\s\S]*$/m, `environments:\n  bench:\n    namespace: bench-svctl\n    replicas: ${replicas}\n  kubectl:\n    namespace: bench-kubectl\n    replicas: ${replicas}\n`);
  writeFileSync(join(dir, 'service.yaml'), spec);
  return dir;
}

// 1. One service: svctl deploy vs kubectl apply --server-side + rollout status.
const hello = serviceDir('hello');
run('kubectl', ['create', 'namespace', 'bench-kubectl']);
// First deploys (object creation) are not measured.
run(svctlBin, ['deploy', '--env', 'bench', '--image-tag', 'warmup', '-q'], {cwd: hello});
const manifests = (tag) => {
  const file = join(work, `kubectl-${tag}.yaml`);
  writeFileSync(file, run(svctlBin, ['render', '--env', 'kubectl', '--image-tag', tag], {cwd: hello}).stdout);
  return file;
};
run('kubectl', ['apply', '--server-side', '-f', manifests('warmup')]);
run('kubectl', ['rollout', 'status', 'deployment/hello', '-n', 'bench-kubectl', '--timeout=60s']);

const svctlTimes = [];
const kubectlTimes = [];
for (let i = 1; i <= rounds; i++) {
  const file = manifests(`k${i}`); // rendering is not part of kubectl's time
  const k = run('bash', ['-c', `kubectl apply --server-side -f "${file}" >/dev/null && kubectl rollout status deployment/hello -n bench-kubectl --timeout=60s >/dev/null`]);
  kubectlTimes.push(k.ms);
  svctlTimes.push(run(svctlBin, ['deploy', '--env', 'bench', '--image-tag', `s${i}`, '-q'], {cwd: hello}).ms);
}

// 2. Twenty services: one call vs one after another.
const names = Array.from({length: 20}, (_, i) => `svc${String(i + 1).padStart(2, '0')}`);
const dirs = names.map((n) => serviceDir(n, 2));
run(svctlBin, ['deploy', '--env', 'bench', '--image-tag', 'warmup', '-q', ...dirs], {cwd: work});
const parallelTimes = [];
const sequentialTimes = [];
for (let i = 1; i <= 2; i++) {
  parallelTimes.push(run(svctlBin, ['deploy', '--env', 'bench', '--image-tag', `p${i}`, '-q', ...dirs], {cwd: work}).ms);
  const started = process.hrtime.bigint();
  for (const dir of dirs) run(svctlBin, ['deploy', '--env', 'bench', '--image-tag', `q${i}`, '-q'], {cwd: dir});
  sequentialTimes.push(Number(process.hrtime.bigint() - started) / 1e6);
}

const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;
const versions = execFileSync('kubectl', ['version', '--client', '-o', 'json'], {encoding: 'utf8'});
console.log(`kubectl ${JSON.parse(versions).clientVersion.gitVersion}, ${rounds} rounds, medians; every round rolls out a new image of 3 replicas`);
console.log('');
console.log('| what | svctl | reference | ratio (svctl / reference) |');
console.log('| --- | --- | --- | --- |');
console.log(`| deploy the sample service (new image, 3 replicas) | \`svctl deploy\` ${fmt(median(svctlTimes))} | \`kubectl apply --server-side\` + \`kubectl rollout status\` ${fmt(median(kubectlTimes))} | ${(median(svctlTimes) / median(kubectlTimes)).toFixed(2)}x |`);
console.log(`| 20 services (new image, 2 replicas each) | one \`svctl deploy\` call ${fmt(median(parallelTimes))} | 20 \`svctl deploy\` one after another ${fmt(median(sequentialTimes))} | ${(median(parallelTimes) / median(sequentialTimes)).toFixed(2)}x |`);
