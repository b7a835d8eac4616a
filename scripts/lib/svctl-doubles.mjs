#!/usr/bin/env node
// Starts the Jenkins and Grafana doubles of packages/testkit for the demo (`./scripts/demo`):
// writes their URLs and tokens as shell assignments to the file given, plans the demo's builds
// (a success after a quiet period, a failure, a build cancelled in the queue), and runs until
// SIGTERM. Jenkins and Grafana cannot be installed on these machines; docs/testing.md says what
// the doubles cover.
import {writeFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const testkit = (name) => import(pathToFileURL(join(root, 'packages/testkit/dist', `${name}.js`)).href);
const {startJenkinsDouble} = await testkit('jenkins');
const {startGrafanaDouble} = await testkit('grafana');

const out = process.argv[2];
const job = process.argv[3] ?? 'hello';
const jenkins = await startJenkinsDouble({user: 'demo-bot'});
const grafana = await startGrafanaDouble();

const step = (s) => `${s}\n`;
jenkins.planBuild(job, {
  result: 'SUCCESS',
  quietPeriodMs: 1500,
  executorWaitMs: 800,
  stepMs: 250,
  log: ['[Pipeline] stage (Checkout)', 'Checking out the commit', '[Pipeline] stage (Test)', '  ✓ 42 tests passed', '[Pipeline] stage (Build image)', 'Successfully built the image', '[Pipeline] stage (Push image)', 'Pushed the image'].map(step).join(''),
});
jenkins.planBuild(job, {
  result: 'FAILURE',
  stepMs: 200,
  log: ['[Pipeline] stage (Test)', '  ✓ 41 tests passed', '  ✗ greets in French: expected "bonjour", got "hello"', 'npm ERR! Test failed.'].map(step).join(''),
});
jenkins.planBuild(job, {quietPeriodMs: 10_000, cancelAfterMs: 1500});

writeFileSync(
  out,
  [
    `JENKINS_URL=${jenkins.url}`,
    `JENKINS_USER=${jenkins.user}`,
    `JENKINS_TOKEN=${jenkins.token}`,
    `GRAFANA_URL=${grafana.url}`,
    `GRAFANA_TOKEN=${grafana.token}`,
    '',
  ].join('\n'),
  {mode: 0o600},
);

const stop = async () => {
  await jenkins.stop();
  await grafana.stop();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
setInterval(() => undefined, 1 << 30);
