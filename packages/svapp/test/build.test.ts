// svctl build and builds through a real svapp process: svapp triggers the job with its own
// Jenkins credentials (the Jenkins double here), streams the console log as events, and svctl
// shows and exits as in direct mode. The token appears nowhere svctl or svapp writes.
import {execFileSync, spawnSync} from 'node:child_process';
import {mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {createOpensslPki, createSvappSite, isolatedHome, type JenkinsDouble, OPEN_POLICY, type OpensslPki, type PostgresServer, repoRoot, runCli, startJenkinsDouble, startPostgres, svctlServerHome, type SvappReplica, type SvappSite, tempDir, waitFor} from '@bcl/testkit';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

let pg: PostgresServer;
let pki: OpensslPki;
let jenkins: JenkinsDouble;
let site: SvappSite;
let replica: SvappReplica;
let home: Awaited<ReturnType<typeof svctlServerHome>>;
const dirs: {remove(): void}[] = [];

const spec = (name: string) => `name: ${name}\nteam: payments\nimage: registry.example.com/payments/${name}\nruntime: node\ngit:\n  url: https://git.example.com/payments/${name}.git\n`;

/** A committed checkout of a service whose job exists in Jenkins (made with svctl pipeline sync in direct mode). */
async function checkout(name: string): Promise<{path: string; sha: string}> {
  const dir = tempDir(`svapp-build-${name}-`);
  dirs.push(dir);
  const git = (...args: string[]) => execFileSync('git', args, {cwd: dir.path, encoding: 'utf8', env: {...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com'}}).trim();
  writeFileSync(join(dir.path, 'service.yaml'), spec(name));
  git('init', '-q', '-b', 'main');
  git('add', 'service.yaml');
  git('commit', '-q', '-m', 'service');
  site.writeCatalog(name, spec(name));
  const admin = isolatedHome();
  dirs.push(admin);
  mkdirSync(join(admin.xdg.config, 'bcl'), {recursive: true});
  writeFileSync(join(admin.xdg.config, 'bcl', 'config.yaml'), `svctl:\n  jenkins:\n    ci: {url: ${jenkins.url}, user: ${jenkins.user}, tokenEnv: JENKINS_TOKEN}\n`);
  const sync = await runCli('svctl', ['pipeline', 'sync'], {env: {...admin.env, JENKINS_TOKEN: jenkins.token}, cwd: dir.path});
  if (sync.exitCode !== 0) throw new Error(sync.stderr);
  return {path: dir.path, sha: git('rev-parse', 'HEAD')};
}

beforeAll(async () => {
  [pg, pki, jenkins] = await Promise.all([startPostgres(), createOpensslPki('Company PKI'), startJenkinsDouble()]);
  site = await createSvappSite({pg, pki, policy: OPEN_POLICY, extraConfig: `jenkins:\n  ci: {url: '${jenkins.url}', user: ${jenkins.user}, token: {env: JENKINS_TOKEN}}`});
  replica = await site.startReplica('svapp-0', {env: {JENKINS_TOKEN: jenkins.token}});
  home = await svctlServerHome({pki, site}, replica.url);
}, 180_000);

afterAll(async () => {
  home?.remove();
  for (const d of dirs) d.remove();
  await site?.stop();
  await jenkins?.stop();
  await pg?.stop();
  pki?.remove();
});

async function svctl(where: {path: string}, args: string[]) {
  const r = await runCli('svctl', args, {env: home.cliEnv, cwd: where.path});
  for (const text of [r.stdout, r.stderr, replica.log(), replica.stdout()]) {
    expect(text).not.toContain(jenkins.token);
    expect(text).not.toContain(Buffer.from(`${jenkins.user}:${jenkins.token}`).toString('base64'));
  }
  return r;
}

describe('builds through svapp', () => {
  it('streams the whole console log byte for byte and exits 0 on SUCCESS', async () => {
    const c = await checkout('streamed');
    const log = Buffer.from(`Started\n${'étape ✓ 🚀 build step\n'.repeat(40)}TOKEN=${jenkins.token}\ndone\n`, 'utf8');
    jenkins.planBuild('streamed', {result: 'SUCCESS', log, pieces: [1, 9, 10, 11, 100, 101, 333, 334, 700, 701, 702], stepMs: 15, quietPeriodMs: 600});
    const r = await svctl(c, ['build']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain('In the quiet period');
    expect(r.stderr).toContain(`${log.toString('utf8').replace(jenkins.token, '***')}Finished: SUCCESS\n`);
    expect(r.stderr.split('Started\n')).toHaveLength(2);
    expect(r.stdout).toMatch(/result:\s+SUCCESS/);
    expect(jenkins.job('streamed')!.builds.at(-1)!.parameters).toEqual({GIT_SHA: c.sha, IMAGE_TAG: c.sha, ENV: ''});
    // Triggered with svapp's credentials (its Jenkins user), not the caller's.
    expect(jenkins.requests.filter((q) => q.method === 'POST' && q.path.includes('/job/streamed/buildWithParameters')).map((q) => q.user)).toEqual([jenkins.user]);
  });

  it('exits 7 for a failed build with the tail of the log, in --json too, with nothing on stderr', async () => {
    const c = await checkout('failing');
    jenkins.planBuild('failing', {result: 'FAILURE', log: 'compiling\nnpm ERR! test failed\n'});
    const r = await svctl(c, ['build', '--json']);
    expect(r.exitCode).toBe(7);
    expect(r.stderr).toBe('');
    expect(r.json().error).toMatchObject({code: 'svctl.build_failed'});
    expect(r.json().error!.message).toContain('npm ERR! test failed');
    expect((r.json().error!.details as {tail: string[]}).tail).toContain('npm ERR! test failed');
  });

  it('lists the builds of the service', async () => {
    const c = await checkout('listed');
    for (const result of ['SUCCESS', 'FAILURE'] as const) {
      jenkins.planBuild('listed', {result});
      await svctl(c, ['build']);
    }
    const r = await svctl(c, ['builds', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json<{result: {job: string; builds: {result: string; gitSha: string}[]}}>().result).toMatchObject({job: 'listed', builds: [{result: 'FAILURE', gitSha: c.sha}, {result: 'SUCCESS', gitSha: c.sha}]});
    // svapp's connections to Jenkins end with the operation or request that made them (Jenkins would keep idle ones 30 s).
    await waitFor('svapp to close its connections to Jenkins', async () => ((await jenkins.connections()) === 0 ? true : undefined), {timeoutMs: 3000});
  });

  it('a Jenkins token it cannot read stops svapp at start and fails `svapp check` (exit 3 naming the key), not a build later', () => {
    // No JENKINS_TOKEN; the database is never reached (the check comes first).
    const env = {PATH: process.env.PATH!, LANG: 'C.UTF-8', HOME: site.dir, SVAPP_DATABASE_URL: 'postgres://svapp@127.0.0.1:1/svapp', SVAPP_MIGRATE_URL: 'postgres://owner@127.0.0.1:1/svapp'};
    for (const command of ['check', 'serve']) {
      const r = spawnSync(join(repoRoot, 'bin', 'svapp'), [command, '--config', site.configFile], {env, encoding: 'utf8', timeout: 60_000});
      expect(r.status, `${command}: ${r.stderr}`).toBe(3);
      expect(r.stderr).toContain('jenkins.ci.token.env names JENKINS_TOKEN, which is not set');
    }
  });
});
