import {execFileSync} from 'node:child_process';
import {chmodSync, mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {type CliResult, type IsolatedHome, isolatedHome, type JenkinsDouble, runCli, startJenkinsDouble, tempDir} from '@bcl/testkit';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

// svctl pipeline sync / build / builds through the real launcher, against the Jenkins double.
let jenkins: JenkinsDouble;
let home: IsolatedHome;
let repo: {path: string; remove(): void};
let sha: string;
const outputs: string[] = [];

const SPEC = `name: hello
team: payments
image: registry.example.com/payments/hello
runtime: node
git:
  url: https://git.example.com/payments/hello.git
`;

async function svctl(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const res = await runCli('svctl', args, {env: {...home.env, JENKINS_TOKEN: jenkins.token, ...env}, cwd: repo.path});
  outputs.push(res.stdout, res.stderr);
  return res;
}

function git(...args: string[]): string {
  return execFileSync('git', args, {cwd: repo.path, encoding: 'utf8', env: {...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com'}}).trim();
}

beforeAll(async () => {
  jenkins = await startJenkinsDouble();
  home = isolatedHome();
  mkdirSync(join(home.xdg.config, 'bcl'), {recursive: true});
  writeFileSync(join(home.xdg.config, 'bcl', 'config.yaml'), `svctl:\n  jenkins:\n    ci:\n      url: ${jenkins.url}\n      user: ${jenkins.user}\n      tokenEnv: JENKINS_TOKEN\n`);
  repo = tempDir('svctl-jenkins-');
  writeFileSync(join(repo.path, 'service.yaml'), SPEC);
  git('init', '-q', '-b', 'main');
  git('add', 'service.yaml');
  git('commit', '-q', '-m', 'service');
  sha = git('rev-parse', 'HEAD');
});

afterAll(async () => {
  await jenkins?.stop();
  home?.remove();
  repo?.remove();
});

describe('svctl pipeline sync', () => {
  it('creates the job once, leaves it alone when unchanged, and updates it when the spec changes', async () => {
    const created = await svctl(['pipeline', 'sync', '--json']);
    expect(created.exitCode, created.stdout + created.stderr).toBe(0);
    expect(created.json().result).toMatchObject({job: 'hello', action: 'created', jenkins: 'ci'});
    const job = jenkins.job('hello')!;
    expect(job.configXml).toContain('<url>https://git.example.com/payments/hello.git</url>');
    expect(job.configXml).toContain('<name>IMAGE_TAG</name>');
    // Jenkins hands the config back with plugin versions; that is not a difference.
    expect(job.configXml).toMatch(/plugin="workflow-job@/);

    const again = await svctl(['pipeline', 'sync', '--json']);
    expect(again.json().result).toMatchObject({action: 'unchanged', diff: []});
    expect(job.configWrites).toBe(1);
    expect(jenkins.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/config.xml'))).toHaveLength(0);

    writeFileSync(join(repo.path, 'service.yaml'), `${SPEC}  branch: release\n`);
    const dry = await svctl(['pipeline', 'sync', '--dry-run']);
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).toContain('would be updated');
    expect(dry.stderr).toContain('+ <defaultValue>release</defaultValue>');
    expect(job.configWrites).toBe(1);

    const updated = await svctl(['pipeline', 'sync', '--json']);
    expect(updated.json().result).toMatchObject({action: 'updated'});
    expect(job.configWrites).toBe(2);
    expect(job.configXml).toContain('<defaultValue>release</defaultValue>');
    writeFileSync(join(repo.path, 'service.yaml'), SPEC);
    await svctl(['pipeline', 'sync']);

    // Every POST carried the crumb together with the session cookie it was issued for.
    const posts = jenkins.requests.filter((r) => r.method === 'POST');
    expect(posts.length).toBeGreaterThan(0);
    for (const post of posts) {
      expect(post.crumb).toMatch(/^[0-9a-f]{64}$/);
      expect(post.cookie).toMatch(/JSESSIONID\.[0-9a-f]+=node0/);
    }
  });
});

describe('svctl build', () => {
  it('queues the build, shows why it waits, streams the whole log and exits 0 on SUCCESS', async () => {
    // A log with multi-byte characters, revealed at offsets that split them.
    const log = Buffer.from(`Started\n${'étape ✓ 🚀 build step\n'.repeat(40)}done\n`, 'utf8');
    jenkins.planBuild('hello', {result: 'SUCCESS', log, pieces: [1, 9, 10, 11, 100, 101, 333, 334, 700, 701, 702], stepMs: 15, quietPeriodMs: 600});
    const res = await svctl(['build']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stderr).toContain('In the quiet period');
    // The log appears once, byte for byte, followed by Jenkins' final line.
    expect(res.stderr).toContain(`${log.toString('utf8')}Finished: SUCCESS\n`);
    expect(res.stderr.split('Started\n')).toHaveLength(2);
    expect(res.stdout).toMatch(/result:\s+SUCCESS/);
    expect(res.stdout).toContain(`registry.example.com/payments/hello:${sha}`);
    const build = jenkins.job('hello')!.builds.at(-1)!;
    expect(build.parameters).toEqual({GIT_SHA: sha, IMAGE_TAG: sha, ENV: ''});
  });

  it('builds the commit of --ref with the tag asked for and reports it in --json', async () => {
    git('tag', 'v1.0.0');
    const res = await svctl(['build', '--ref', 'v1.0.0', '--image-tag', '1.0.0', '--env', 'staging', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stderr).toBe('');
    expect(res.json().result).toMatchObject({result: 'SUCCESS', gitSha: sha, imageTag: '1.0.0', env: 'staging', image: 'registry.example.com/payments/hello:1.0.0'});
  });

  it.each([
    ['FAILURE', 7],
    ['UNSTABLE', 7],
    ['ABORTED', 7],
  ] as const)('exits %s -> %i with the tail of the log', async (result, code) => {
    jenkins.planBuild('hello', {result, log: `compiling\n${Array.from({length: 30}, (_, i) => `test ${i} ok`).join('\n')}\nerror: the tests of ${result} failed\n`});
    const res = await svctl(['build']);
    expect(res.exitCode).toBe(code);
    expect(res.stderr).toContain(`finished ${result}`);
    expect(res.stderr).toContain(`| error: the tests of ${result} failed`);
    expect(res.stderr).toContain(`| Finished: ${result}`);
    const json = await svctl(['build', '--json']);
    // The next build has no plan: the double runs it as SUCCESS.
    expect(json.exitCode).toBe(0);
  });

  it('gives the failure and the tail in the JSON envelope', async () => {
    jenkins.planBuild('hello', {result: 'FAILURE', log: 'npm ERR! test failed\n'});
    const res = await svctl(['build', '--json']);
    expect(res.exitCode).toBe(7);
    const error = res.json().error!;
    expect(error.code).toBe('svctl.build_failed');
    expect(error.message).toContain('npm ERR! test failed');
    expect((error.details as {result: string; tail: string[]}).tail).toContain('npm ERR! test failed');
  });

  it('exits 6 when the queue item is cancelled before it starts', async () => {
    jenkins.planBuild('hello', {quietPeriodMs: 5000, cancelAfterMs: 400});
    const res = await svctl(['build']);
    expect(res.exitCode).toBe(6);
    expect(res.stderr).toMatch(/queue item \d+ of hello was cancelled before it started/);
  });

  it('returns once queued with --no-follow', async () => {
    jenkins.planBuild('hello', {quietPeriodMs: 2000});
    const res = await svctl(['build', '--no-follow', '--json']);
    expect(res.exitCode).toBe(0);
    expect(res.json().result).toMatchObject({number: null, result: null, queueUrl: expect.stringMatching(/\/queue\/item\/\d+\/$/)});
  });

  it('Ctrl-C while queued or while streaming stops following (exit 130) and leaves the build to Jenkins', async () => {
    jenkins.planBuild('hello', {quietPeriodMs: 5000});
    const queued = await runCli('svctl', ['build'], {env: {...home.env, JENKINS_TOKEN: jenkins.token}, cwd: repo.path, interruptAfterMs: 3000});
    outputs.push(queued.stdout, queued.stderr);
    expect(queued.exitCode).toBe(130);
    expect(queued.stderr).toMatch(/stopped waiting: queue item \d+ of hello is still queued/);
    jenkins.planBuild('hello', {log: 'one\ntwo\nthree\nfour\n', stepMs: 2500});
    const streaming = await runCli('svctl', ['build'], {env: {...home.env, JENKINS_TOKEN: jenkins.token}, cwd: repo.path, interruptAfterMs: 3500});
    outputs.push(streaming.stdout, streaming.stderr);
    expect(streaming.exitCode).toBe(130);
    const stopped = /stopped following build #(\d+) of hello; it goes on at http/.exec(streaming.stderr);
    expect(stopped, streaming.stderr).not.toBeNull();
    expect(jenkins.job('hello')!.builds.find((b) => b.number === Number(stopped![1]))!.building).toBe(true);
  });

  it('lists recent builds with result, duration and commit', async () => {
    await new Promise((r) => setTimeout(r, 2500));
    const res = await svctl(['builds', '--limit', '4']);
    expect(res.exitCode, res.stderr).toBe(0);
    const lines = res.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^BUILD\s+RESULT\s+DURATION\s+COMMIT/);
    expect(lines).toHaveLength(5);
    expect(res.stdout).toContain(sha.slice(0, 12));
    const json = await svctl(['builds', '--json']);
    const builds = json.json<{result: {builds: {number: number; result: string; gitSha: string; durationMs: number}[]}}>().result.builds;
    expect(builds[0]!.number).toBeGreaterThan(builds[1]!.number);
    expect(builds.map((b) => b.result)).toEqual(expect.arrayContaining(['SUCCESS', 'FAILURE', 'UNSTABLE', 'ABORTED']));
    expect(builds.every((b) => b.gitSha === sha)).toBe(true);
  });
});

describe('errors a person can act on', () => {
  it('a wrong token is exit 4 naming the user, without the token', async () => {
    const res = await svctl(['builds'], {JENKINS_TOKEN: 'not-the-right-token-123'});
    expect(res.exitCode).toBe(4);
    expect(res.stderr).toContain(`rejected the API token of user ${jenkins.user} (401)`);
    expect(res.stderr).not.toContain('not-the-right-token-123');
  });

  it('a user without the build permission is exit 4 naming the permission', async () => {
    jenkins.addUser('reader', 'reader-token-0123456789', {build: false});
    const res = await svctl(['build'], {JENKINS_TOKEN: 'reader-token-0123456789', BCL_SVCTL_JENKINS_CI_USER: 'reader'});
    expect(res.exitCode).toBe(4);
    expect(res.stderr).toContain('missing permission hudson.model.Item.Build');
  });

  it('a job that does not exist is exit 6 pointing at pipeline sync', async () => {
    const other = tempDir('svctl-jenkins-other-');
    writeFileSync(join(other.path, 'service.yaml'), SPEC.replace('name: hello', 'name: nojob'));
    const res = await runCli('svctl', ['build', '--ref', 'main', other.path], {env: {...home.env, JENKINS_TOKEN: jenkins.token}, cwd: other.path});
    outputs.push(res.stdout, res.stderr);
    other.remove();
    expect(res.exitCode).toBe(6);
    expect(res.stderr).toContain('svctl pipeline sync');
  });

  it('a Jenkins failure (500) when starting the build is exit 5', async () => {
    jenkins.failNext({method: 'POST', path: /buildWithParameters$/, status: 500});
    const res = await svctl(['build']);
    expect(res.exitCode).toBe(5);
    expect(res.stderr).toContain('failed (500) trying to start a build of job hello');
  });

  it('a 500 while reading is retried', async () => {
    jenkins.failNext({method: 'GET', path: /\/job\/hello\/api\/json$/, status: 500, times: 2});
    const res = await svctl(['builds']);
    expect(res.exitCode, res.stderr).toBe(0);
  });

  it('an unreachable Jenkins is exit 5', async () => {
    const res = await svctl(['builds'], {BCL_SVCTL_JENKINS_CI_URL: 'http://127.0.0.1:9'});
    expect(res.exitCode).toBe(5);
    expect(res.stderr).toContain('cannot reach Jenkins ci');
  });

  it('a token file readable by others is refused (exit 3), a 0600 one is used', async () => {
    await svctl(['pipeline', 'sync']);
    const file = join(home.home, 'jenkins-token');
    writeFileSync(file, `${jenkins.token}\n`, {mode: 0o644});
    chmodSync(file, 0o644);
    const config = join(home.home, 'token-file.yaml');
    writeFileSync(config, `svctl:\n  jenkins:\n    files:\n      url: ${jenkins.url}\n      user: ${jenkins.user}\n      tokenFile: ${file}\n`);
    const loose = await svctl(['builds', '--config', config, '--jenkins', 'files']);
    expect(loose.exitCode).toBe(3);
    expect(loose.stderr).toContain('svctl.jenkins.files.tokenFile');
    expect(loose.stderr).toContain('it must be 0600');
    chmodSync(file, 0o600);
    const strict = await svctl(['builds', '--config', config, '--jenkins', 'files']);
    expect(strict.exitCode, strict.stderr).toBe(0);
  });

  it('a missing token variable is exit 3 naming it', async () => {
    const res = await runCli('svctl', ['builds'], {env: {...home.env}, cwd: repo.path});
    outputs.push(res.stdout, res.stderr);
    expect(res.exitCode).toBe(3);
    expect(res.stderr).toContain('svctl.jenkins.ci.tokenEnv names JENKINS_TOKEN, which is not set');
  });
});

describe('secrets', () => {
  it('the API token never appears in any output', async () => {
    // A build whose log prints the token (a careless `env` in a Jenkinsfile), split across chunks.
    const log = Buffer.from(`env\nJENKINS_TOKEN=${jenkins.token}\nok\n`);
    const at = log.indexOf(jenkins.token) + 5;
    jenkins.planBuild('hello', {log, pieces: [at, at + 3]});
    const res = await svctl(['build', '-v']);
    expect(res.exitCode).toBe(0);
    expect(res.stderr).toContain('JENKINS_TOKEN=***');
    const all = outputs.join('\n');
    expect(all.length).toBeGreaterThan(1000);
    expect(all).not.toContain(jenkins.token);
    expect(all).not.toContain(Buffer.from(`${jenkins.user}:${jenkins.token}`).toString('base64'));
  });
});
