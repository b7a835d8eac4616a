import {execFileSync, spawnSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {hadolintPath, tempDir} from '@bcl/testkit';
import {describe, expect, it} from 'vitest';
import {parseSpec, RUNTIMES} from '@bcl/deploy-core/spec';
import {DIGEST_PLACEHOLDER, renderDockerfile} from './dockerfile.js';
import {renderJenkinsfile} from './jenkinsfile.js';
import {scaffoldService} from './scaffold.js';

/** The stages of a Dockerfile: its FROM lines and what follows each. */
function stages(dockerfile: string): {from: string; body: string[]}[] {
  const out: {from: string; body: string[]}[] = [];
  for (const line of dockerfile.split('\n')) {
    if (/^FROM /.test(line)) out.push({from: line, body: []});
    else if (out.length > 0 && line.trim() && !line.startsWith('#')) out.at(-1)!.body.push(line);
  }
  return out;
}

describe.each(RUNTIMES)('the %s build definition', (runtime) => {
  const dir = tempDir(`svctl-init-${runtime}-`);
  const result = scaffoldService({dir: dir.path, name: `svc-${runtime}`, team: 'payments', runtime, force: false});
  const dockerfile = readFileSync(join(dir.path, 'Dockerfile'), 'utf8');

  it('passes hadolint with no finding at all', () => {
    const res = spawnSync(hadolintPath(), ['--no-color', '--failure-threshold', 'style', '-'], {input: dockerfile, encoding: 'utf8'});
    expect(res.stdout + res.stderr).toBe('');
    expect(res.status).toBe(0);
  });

  it('is multi-stage, pins every base image by digest, runs as non-root and checks health', () => {
    const all = stages(dockerfile);
    expect(all.length).toBeGreaterThanOrEqual(2);
    for (const stage of all) expect(stage.from).toMatch(/^FROM \S+@sha256:[0-9a-f]{64}( AS \w+)?$/);
    const final = all.at(-1)!;
    const user = final.body.filter((l) => l.startsWith('USER ')).at(-1);
    expect(user).toMatch(/^USER [1-9]\d*(:[1-9]\d*)?$/);
    expect(dockerfile).toContain('HEALTHCHECK');
    expect(dockerfile).toContain(`/healthz`);
    expect(final.body.some((l) => l.startsWith('EXPOSE '))).toBe(true);
  });

  it('scaffolds a spec that validates, and a Jenkinsfile using the job parameters', () => {
    expect(result.files.map((f) => f.action)).toEqual(['created', 'created', 'created', 'created']);
    const spec = parseSpec(readFileSync(join(dir.path, 'service.yaml'), 'utf8'));
    expect(spec).toMatchObject({name: `svc-${runtime}`, team: 'payments', runtime});
    const jenkinsfile = readFileSync(join(dir.path, 'Jenkinsfile'), 'utf8');
    for (const word of ['params.IMAGE_TAG', 'params.ENV', 'checkout scm', 'docker push', 'svctl deploy --env']) expect(jenkinsfile).toContain(word);
    expect(readFileSync(join(dir.path, '.dockerignore'), 'utf8')).toMatch(/^\.git$/m);
  });
});

describe('svctl init', () => {
  it('refuses to overwrite and writes nothing, unless forced', () => {
    const dir = tempDir('svctl-init-exists-');
    execFileSync('sh', ['-c', 'echo "FROM scratch" > Dockerfile'], {cwd: dir.path});
    expect(() => scaffoldService({dir: dir.path, name: 'a', team: 't', runtime: 'go', force: false})).toThrow(/Dockerfile already exists/);
    expect(readFileSync(join(dir.path, 'Dockerfile'), 'utf8')).toBe('FROM scratch\n');
    expect(() => readFileSync(join(dir.path, 'service.yaml'))).toThrow();
    const forced = scaffoldService({dir: dir.path, name: 'a', team: 't', runtime: 'go', force: true});
    expect(forced.files.find((f) => f.path.endsWith('Dockerfile'))?.action).toBe('overwritten');
    dir.remove();
  });

  it('names the flag of an invalid value', () => {
    const dir = tempDir('svctl-init-bad-');
    expect(() => scaffoldService({dir: dir.path, name: 'Bad_Name', team: 't', runtime: 'go', force: false})).toThrow(/^--name: /);
    dir.remove();
  });

  it('templates carry the port and health path they are given', () => {
    const text = renderDockerfile({name: 'x', runtime: 'python', port: 9000, healthPath: '/live'});
    expect(text).toContain('EXPOSE 9000');
    expect(text).toContain('http://127.0.0.1:9000/live');
    expect(text.split(DIGEST_PLACEHOLDER).length - 1).toBe(2);
    expect(renderJenkinsfile({name: 'x', runtime: 'go', image: 'registry.example.com:5000/t/x'})).toContain("REGISTRY = 'registry.example.com:5000'");
  });
});

describe('svctl init through the launcher', () => {
  it('scaffolds non-interactively from flags, and names the missing flag otherwise', async () => {
    const {isolatedHome, runCli} = await import('@bcl/testkit');
    const home = isolatedHome();
    const dir = tempDir('svctl-init-cli-');
    const ok = await runCli('svctl', ['init', '--team', 'payments', '--runtime', 'python', '--name', 'ledger', '--json'], {env: home.env, cwd: dir.path});
    expect(ok.exitCode, ok.stdout + ok.stderr).toBe(0);
    expect(ok.json<{result: {files: {path: string; action: string}[]}}>().result.files.map((f) => f.action)).toEqual(['created', 'created', 'created', 'created']);
    expect(readFileSync(join(dir.path, 'Dockerfile'), 'utf8')).toContain('FROM docker.io/library/python:3.12-slim-bookworm@sha256:');
    const again = await runCli('svctl', ['init', '--team', 'payments', '--runtime', 'python', '--name', 'ledger'], {env: home.env, cwd: dir.path});
    expect(again.exitCode).toBe(6);
    const missing = await runCli('svctl', ['init', '--name', 'x'], {env: home.env, cwd: dir.path});
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('give --team');
    dir.remove();
    home.remove();
  });
});
