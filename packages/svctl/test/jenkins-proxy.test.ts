import {mkdirSync, writeFileSync} from 'node:fs';
import {createServer, request as httpRequest, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {join} from 'node:path';
import {type IsolatedHome, isolatedHome, type JenkinsDouble, runCli, startJenkinsDouble} from '@bcl/testkit';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {type ServiceRepo, serviceRepo} from './helpers.js';

// svctl's Jenkins calls, the client's and the console log's alike, go through the proxy bcl's
// HTTP settings name (HTTP_PROXY, NO_PROXY), through the real launcher.
let jenkins: JenkinsDouble;
let home: IsolatedHome;
let repo: ServiceRepo;
let proxy: Server;
let proxyUrl: string;
const proxied: string[] = [];

beforeAll(async () => {
  jenkins = await startJenkinsDouble();
  home = isolatedHome();
  mkdirSync(join(home.xdg.config, 'bcl'), {recursive: true});
  writeFileSync(join(home.xdg.config, 'bcl', 'config.yaml'), `svctl:\n  jenkins:\n    ci:\n      url: ${jenkins.url}\n      user: ${jenkins.user}\n      tokenEnv: JENKINS_TOKEN\n`);
  repo = await serviceRepo('name: hello\nteam: payments\nimage: registry.example.com/payments/hello\nruntime: node\ngit:\n  url: https://git.example.com/payments/hello.git\n');
  // A forward proxy as corporate ones are for plain HTTP: it relays absolute-URI requests.
  proxy = createServer((req, res) => {
    proxied.push(`${req.method} ${new URL(req.url!).pathname}`);
    const upstream = httpRequest(req.url!, {method: req.method, headers: req.headers}, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await jenkins?.stop();
  await new Promise((r) => proxy?.close(r));
  home?.remove();
  repo?.remove();
});

const svctl = (args: string[], env: Record<string, string>) => runCli('svctl', args, {env: {...home.env, JENKINS_TOKEN: jenkins.token, ...env}, cwd: repo.dir});

describe('svctl and Jenkins behind a proxy', () => {
  it('sync and a followed build go through HTTP_PROXY: crumb, job, queue, build and the console log', async () => {
    const sync = await svctl(['pipeline', 'sync', '--json'], {HTTP_PROXY: proxyUrl});
    expect(sync.exitCode, sync.stderr).toBe(0);
    jenkins.planBuild('hello', {result: 'SUCCESS', log: Buffer.from('Started\nbuilding ✓\n'), stepMs: 10});
    const build = await svctl(['build'], {HTTP_PROXY: proxyUrl});
    expect(build.exitCode, build.stderr).toBe(0);
    expect(build.stderr).toContain('building ✓');
    const paths = proxied.map((p) => p.replace(/\/\d+\//g, '/N/'));
    expect(paths).toEqual(expect.arrayContaining(['GET /crumbIssuer/api/json', 'POST /job/hello/buildWithParameters', 'GET /job/hello/N/logText/progressiveText']));
    expect(paths.some((p) => p.startsWith('GET /queue/item/'))).toBe(true);
  });

  it('NO_PROXY keeps Jenkins off the proxy', async () => {
    const before = proxied.length;
    jenkins.planBuild('hello', {result: 'SUCCESS', log: Buffer.from('direct\n'), stepMs: 10});
    const build = await svctl(['build'], {HTTP_PROXY: proxyUrl, NO_PROXY: '127.0.0.1'});
    expect(build.exitCode, build.stderr).toBe(0);
    expect(build.stderr).toContain('direct');
    expect(proxied.length).toBe(before);
  });
});
