import {execFileSync} from 'node:child_process';
import {chmodSync, mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {type CliResult, type IsolatedHome, isolatedHome, type JenkinsDouble, runCli, startJenkinsDouble, tempDir} from '@bcl/testkit';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

// svctl pipeline sync / build / builds through the real launcher, against the Jenkins double.
// Tests share the double, never state: each test that looks at jobs or builds uses a service
// (a job) of its own, so any one of them runs alone or in any order.
let jenkins: JenkinsDouble;
let home: IsolatedHome;
const checkouts: {remove(): void}[] = [];

const spec = (name: string) => `name: ${name}
team: payments
image: registry.example.com/payments/${name}
runtime: node
git:
  url: https://git.example.com/payments/${name}.git
`;

/** A git checkout of a service: its spec committed, and the commit. */
interface Checkout {
  path: string;
  sha: string;
  git(...args: string[]): string;
}

function checkout(name: string): Checkout {
  const dir = tempDir(`svctl-jenkins-${name}-`);
  checkouts.push(dir);
  const git = (...args: string[]) =>
    execFileSync('git', args, {cwd: dir.path, encoding: 'utf8', env: {...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com'}}).trim();
  writeFileSync(join(dir.path, 'service.yaml'), spec(name));
  git('init', '-q', '-b', 'main');
  git('add', 'service.yaml');
  git('commit', '-q', '-m', 'service');
  return {path: dir.path, sha: git('rev-parse', 'HEAD'), git};
}

/** The launcher in a checkout; every run's output is checked for the API token and its Basic credentials. */
async function svctl(where: Checkout, args: string[], env: Record<string, string> = {}, extra: {interruptAfterMs?: number; interruptOn?: RegExp} = {}): Promise<CliResult> {
  const res = await runCli('svctl', args, {env: {...home.env, JENKINS_TOKEN: jenkins.token, ...env}, cwd: where.path, ...extra});
  for (const text of [res.stdout, res.stderr]) {
    expect(text).not.toContain(jenkins.token);
    expect(text).not.toContain(Buffer.from(`${jenkins.user}:${jenkins.token}`).toString('base64'));
  }
  return res;
}

/** A checkout whose job exists in Jenkins (created by `svctl pipeline sync`). */
async function syncedCheckout(name: string): Promise<Checkout> {
  const c = checkout(name);
  const sync = await svctl(c, ['pipeline', 'sync']);
  if (sync.exitCode !== 0) throw new Error(`pipeline sync of ${name} failed: ${sync.stderr}`);
  return c;
}

beforeAll(async () => {
  jenkins = await startJenkinsDouble();
  home = isolatedHome();
  mkdirSync(join(home.xdg.config, 'bcl'), {recursive: true});
  writeFileSync(join(home.xdg.config, 'bcl', 'config.yaml'), `svctl:\n  jenkins:\n    ci:\n      url: ${jenkins.url}\n      user: ${jenkins.user}\n      tokenEnv: JENKINS_TOKEN\n`);
});

afterAll(async () => {
  await jenkins?.stop();
  home?.remove();
  for (const c of checkouts) c.remove();
});

describe('svctl pipeline sync', () => {
  it('creates the job once, leaves it alone when unchanged, and updates it when the spec changes', async () => {
    const c = checkout('sync-demo');
    const created = await svctl(c, ['pipeline', 'sync', '--json']);
    expect(created.exitCode, created.stdout + created.stderr).toBe(0);
    expect(created.json().result).toMatchObject({job: 'sync-demo', action: 'created', jenkins: 'ci'});
    const job = jenkins.job('sync-demo')!;
    expect(job.configXml).toContain('<url>https://git.example.com/payments/sync-demo.git</url>');
    expect(job.configXml).toContain('<name>IMAGE_TAG</name>');
    // Jenkins hands the config back with plugin versions; that is not a difference.
    expect(job.configXml).toMatch(/plugin="workflow-job@/);

    const again = await svctl(c, ['pipeline', 'sync', '--json']);
    expect(again.json().result).toMatchObject({action: 'unchanged', diff: []});
    expect(job.configWrites).toBe(1);
    expect(jenkins.requests.filter((r) => r.method === 'POST' && r.path.startsWith('/job/sync-demo/config.xml'))).toHaveLength(0);

    writeFileSync(join(c.path, 'service.yaml'), `${spec('sync-demo')}  branch: release\n`);
    const dry = await svctl(c, ['pipeline', 'sync', '--dry-run']);
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).toContain('would be updated');
    expect(dry.stderr).toContain('+ <defaultValue>release</defaultValue>');
    expect(job.configWrites).toBe(1);

    const updated = await svctl(c, ['pipeline', 'sync', '--json']);
    expect(updated.json().result).toMatchObject({action: 'updated'});
    expect(job.configWrites).toBe(2);
    expect(job.configXml).toContain('<defaultValue>release</defaultValue>');

    // Every POST carried the crumb together with the session cookie it was issued for.
    const posts = jenkins.requests.filter((r) => r.method === 'POST' && /^\/(createItem\?name=sync-demo|job\/sync-demo\/)/.test(r.path));
    expect(posts.length).toBeGreaterThan(0);
    for (const post of posts) {
      expect(post.crumb).toMatch(/^[0-9a-f]{64}$/);
      expect(post.cookie).toMatch(/JSESSIONID\.[0-9a-f]+=node0/);
    }
  });
});

describe('svctl build', () => {
  it('queues the build, shows why it waits, streams the whole log and exits 0 on SUCCESS', async () => {
    const c = await syncedCheckout('streamed');
    // A log with multi-byte characters, revealed at offsets that split them.
    const log = Buffer.from(`Started\n${'étape ✓ 🚀 build step\n'.repeat(40)}done\n`, 'utf8');
    jenkins.planBuild('streamed', {result: 'SUCCESS', log, pieces: [1, 9, 10, 11, 100, 101, 333, 334, 700, 701, 702], stepMs: 15, quietPeriodMs: 600});
    const res = await svctl(c, ['build']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stderr).toContain('In the quiet period');
    // The log appears once, byte for byte, followed by Jenkins' final line.
    expect(res.stderr).toContain(`${log.toString('utf8')}Finished: SUCCESS\n`);
    expect(res.stderr.split('Started\n')).toHaveLength(2);
    expect(res.stdout).toMatch(/result:\s+SUCCESS/);
    expect(res.stdout).toContain(`registry.example.com/payments/streamed:${c.sha}`);
    const build = jenkins.job('streamed')!.builds.at(-1)!;
    expect(build.parameters).toEqual({GIT_SHA: c.sha, IMAGE_TAG: c.sha, ENV: ''});
  });

  it('builds the commit of --ref with the tag asked for and reports it in --json', async () => {
    const c = await syncedCheckout('tagged');
    c.git('tag', 'v1.0.0');
    const res = await svctl(c, ['build', '--ref', 'v1.0.0', '--image-tag', '1.0.0', '--env', 'staging', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stderr).toBe('');
    expect(res.json().result).toMatchObject({result: 'SUCCESS', gitSha: c.sha, imageTag: '1.0.0', env: 'staging', image: 'registry.example.com/payments/tagged:1.0.0'});
  });

  it.each([
    ['FAILURE', 7],
    ['UNSTABLE', 7],
    ['ABORTED', 7],
  ] as const)('exits %s -> %i with the tail of the log', async (result, code) => {
    const c = await syncedCheckout(`result-${result.toLowerCase()}`);
    jenkins.planBuild(`result-${result.toLowerCase()}`, {result, log: `compiling\n${Array.from({length: 30}, (_, i) => `test ${i} ok`).join('\n')}\nerror: the tests of ${result} failed\n`});
    const res = await svctl(c, ['build']);
    expect(res.exitCode).toBe(code);
    expect(res.stderr).toContain(`finished ${result}`);
    expect(res.stderr).toContain(`| error: the tests of ${result} failed`);
    expect(res.stderr).toContain(`| Finished: ${result}`);
    const json = await svctl(c, ['build', '--json']);
    // The next build has no plan: the double runs it as SUCCESS.
    expect(json.exitCode).toBe(0);
  });

  it('gives the failure and the tail in the JSON envelope', async () => {
    const c = await syncedCheckout('failing');
    jenkins.planBuild('failing', {result: 'FAILURE', log: 'npm ERR! test failed\n'});
    const res = await svctl(c, ['build', '--json']);
    expect(res.exitCode).toBe(7);
    const error = res.json().error!;
    expect(error.code).toBe('svctl.build_failed');
    expect(error.message).toContain('npm ERR! test failed');
    expect((error.details as {result: string; tail: string[]}).tail).toContain('npm ERR! test failed');
  });

  it('exits 6 when the queue item is cancelled before it starts', async () => {
    const c = await syncedCheckout('cancelled');
    jenkins.planBuild('cancelled', {quietPeriodMs: 5000, cancelAfterMs: 400});
    const res = await svctl(c, ['build']);
    expect(res.exitCode).toBe(6);
    expect(res.stderr).toMatch(/queue item \d+ of cancelled was cancelled before it started/);
  });

  it('returns once queued with --no-follow', async () => {
    const c = await syncedCheckout('unfollowed');
    jenkins.planBuild('unfollowed', {quietPeriodMs: 2000});
    const res = await svctl(c, ['build', '--no-follow', '--json']);
    expect(res.exitCode).toBe(0);
    expect(res.json().result).toMatchObject({number: null, result: null, queueUrl: expect.stringMatching(/\/queue\/item\/\d+\/$/)});
  });

  it('Ctrl-C while queued or while streaming stops following (exit 130) and leaves the build to Jenkins', async () => {
    const c = await syncedCheckout('interrupted');
    // Interrupted once svctl says what it waits for: the quiet period, then the started build.
    jenkins.planBuild('interrupted', {quietPeriodMs: 60_000});
    const queued = await svctl(c, ['build'], {}, {interruptOn: /In the quiet period/});
    expect(queued.exitCode).toBe(130);
    expect(queued.stderr).toMatch(/stopped waiting: queue item \d+ of interrupted is still queued/);
    jenkins.planBuild('interrupted', {log: 'one\ntwo\nthree\nfour\n', stepMs: 60_000});
    const streaming = await svctl(c, ['build'], {}, {interruptOn: /Build #\d+ started/});
    expect(streaming.exitCode).toBe(130);
    const stopped = /stopped following build #(\d+) of interrupted; it goes on at http/.exec(streaming.stderr);
    expect(stopped, streaming.stderr).not.toBeNull();
    expect(jenkins.job('interrupted')!.builds.find((b) => b.number === Number(stopped![1]))!.building).toBe(true);
  });

  it('lists recent builds with result, duration and commit', async () => {
    const c = await syncedCheckout('listed');
    for (const result of ['FAILURE', 'UNSTABLE', 'ABORTED', 'SUCCESS'] as const) {
      jenkins.planBuild('listed', {result});
      expect((await svctl(c, ['build'])).exitCode).toBe(result === 'SUCCESS' ? 0 : 7);
    }
    const res = await svctl(c, ['builds', '--limit', '3']);
    expect(res.exitCode, res.stderr).toBe(0);
    const lines = res.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^BUILD\s+RESULT\s+DURATION\s+COMMIT/);
    expect(lines).toHaveLength(4);
    expect(res.stdout).toContain(c.sha.slice(0, 12));
    const json = await svctl(c, ['builds', '--json']);
    const builds = json.json<{result: {builds: {number: number; result: string; gitSha: string; durationMs: number}[]}}>().result.builds;
    expect(builds.map((b) => b.number)).toEqual([4, 3, 2, 1]);
    expect(builds.map((b) => b.result)).toEqual(['SUCCESS', 'ABORTED', 'UNSTABLE', 'FAILURE']);
    expect(builds.every((b) => b.gitSha === c.sha)).toBe(true);
  });
});

describe('errors a person can act on', () => {
  it('a wrong token is exit 4 naming the user, without the token', async () => {
    const c = await syncedCheckout('wrong-token');
    const res = await svctl(c, ['builds'], {JENKINS_TOKEN: 'not-the-right-token-123'});
    expect(res.exitCode).toBe(4);
    expect(res.stderr).toContain(`rejected the API token of user ${jenkins.user} (401)`);
    expect(res.stderr).not.toContain('not-the-right-token-123');
  });

  it('a user without the build permission is exit 4 naming the permission', async () => {
    const c = await syncedCheckout('no-permission');
    jenkins.addUser('reader', 'reader-token-0123456789', {build: false});
    const res = await svctl(c, ['build'], {JENKINS_TOKEN: 'reader-token-0123456789', BCL_SVCTL_JENKINS_CI_USER: 'reader'});
    expect(res.exitCode).toBe(4);
    expect(res.stderr).toContain('missing permission hudson.model.Item.Build');
  });

  it('a job that does not exist is exit 6 pointing at pipeline sync', async () => {
    const other = tempDir('svctl-jenkins-other-');
    checkouts.push(other);
    writeFileSync(join(other.path, 'service.yaml'), spec('nojob'));
    const res = await svctl({path: other.path, sha: '', git: () => ''}, ['build', '--ref', 'main', other.path]);
    expect(res.exitCode).toBe(6);
    expect(res.stderr).toContain('svctl pipeline sync');
  });

  it('a Jenkins failure (500) when starting the build is exit 5', async () => {
    const c = await syncedCheckout('trigger-fails');
    jenkins.failNext({method: 'POST', path: /\/job\/trigger-fails\/buildWithParameters$/, status: 500});
    const res = await svctl(c, ['build']);
    expect(res.exitCode).toBe(5);
    expect(res.stderr).toContain('failed (500) trying to start a build of job trigger-fails');
  });

  it('a 500 while reading is retried', async () => {
    const c = await syncedCheckout('read-fails');
    jenkins.failNext({method: 'GET', path: /\/job\/read-fails\/api\/json$/, status: 500, times: 2});
    const res = await svctl(c, ['builds']);
    expect(res.exitCode, res.stderr).toBe(0);
  });

  it('an unreachable Jenkins is exit 5', async () => {
    const c = checkout('unreachable');
    const res = await svctl(c, ['builds'], {BCL_SVCTL_JENKINS_CI_URL: 'http://127.0.0.1:9'});
    expect(res.exitCode).toBe(5);
    expect(res.stderr).toContain('cannot reach Jenkins ci');
  });

  it('a token file readable by others is refused (exit 3), a 0600 one is used', async () => {
    const c = await syncedCheckout('token-file');
    const file = join(home.home, 'jenkins-token');
    writeFileSync(file, `${jenkins.token}\n`, {mode: 0o644});
    chmodSync(file, 0o644);
    const config = join(home.home, 'token-file.yaml');
    writeFileSync(config, `svctl:\n  jenkins:\n    files:\n      url: ${jenkins.url}\n      user: ${jenkins.user}\n      tokenFile: ${file}\n`);
    const loose = await svctl(c, ['builds', '--config', config, '--jenkins', 'files']);
    expect(loose.exitCode).toBe(3);
    expect(loose.stderr).toContain('svctl.jenkins.files.tokenFile');
    expect(loose.stderr).toContain('it must be 0600');
    chmodSync(file, 0o600);
    const strict = await svctl(c, ['builds', '--config', config, '--jenkins', 'files']);
    expect(strict.exitCode, strict.stderr).toBe(0);
  });

  it('a missing token variable is exit 3 naming it', async () => {
    const c = checkout('no-token');
    const res = await runCli('svctl', ['builds'], {env: {...home.env}, cwd: c.path});
    expect(res.exitCode).toBe(3);
    expect(res.stderr).toContain('svctl.jenkins.ci.tokenEnv names JENKINS_TOKEN, which is not set');
  });
});

describe('secrets', () => {
  // Every run above is checked for the token by svctl(); this one makes the build print it.
  it('the API token never appears in the output, even when the build log prints it split across chunks', async () => {
    const c = await syncedCheckout('leaky');
    // A build whose log prints the token (a careless `env` in a Jenkinsfile), split across chunks.
    const log = Buffer.from(`env\nJENKINS_TOKEN=${jenkins.token}\nok\n`);
    const at = log.indexOf(jenkins.token) + 5;
    jenkins.planBuild('leaky', {log, pieces: [at, at + 3]});
    const res = await svctl(c, ['build', '-v']);
    expect(res.exitCode).toBe(0);
    expect(res.stderr).toContain('JENKINS_TOKEN=***');
    expect(res.stderr).toContain('ok\n');
  });
});
