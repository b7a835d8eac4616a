// The PKI server part of scripts/bench-pki, in the same run as its Git-store part:
//   1. one certificate through `pkictl request` against the server (signed in already: key, CSR,
//      issuance, files written), next to the Git flow's round trip (measured by the caller and
//      passed in) and to `openssl req` + `openssl x509 -req` by hand (medians of ROUND_TRIPS
//      rounds, each running pkictl request, the openssl pair, pkictl config and the same request
//      with no CLI framework once);
//   2. issuances per second of two server replicas on one PostgreSQL, from CONCURRENCY clients
//      with kept-alive connections, REQUESTS in all.
// Prints Markdown rows for docs/performance.md.
import {execFileSync, spawn} from 'node:child_process';
import {generateKeyPairSync} from 'node:crypto';
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {performance} from 'node:perf_hooks';
import {createCsr} from '../../packages/pki-ca/dist/index.js';
import {isolatedHome, repoRoot, startOidcProvider, startPkiServer, startPostgres, tempDir} from '../../packages/testkit/dist/index.js';
import {closedLoop, cpuMs, postgresPids} from './load.mjs';
import {median, pct} from './stats.mjs';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.split('=')));
const ROUND_TRIPS = Number(args.roundTrips ?? 15);
const REQUESTS = Number(args.requests ?? 2000);
const CONCURRENCY = Number(args.concurrency ?? 50);
const WARMUP = Number(args.warmup ?? 500);
const GIT_MS = Number(args.gitMs ?? 0);
const step = (m) => process.stderr.write(`==> ${m}\n`);

const work = tempDir('bcl-bench-pki-server-');
const pg = await startPostgres({settings: {max_connections: '300'}});
const oidc = await startOidcProvider();
const server = await startPkiServer({
  postgres: pg,
  oidc,
  replicas: 2,
  extraConfig: 'rateLimits:\n  perAddress: {max: 1000000, window: 1m}\n  perIdentity: {max: 1000000, window: 1m}\n',
});
const home = isolatedHome();
const lines = [];
try {
  mkdirSync(join(home.xdg.config, 'bcl'), {recursive: true});
  writeFileSync(join(home.xdg.config, 'bcl', 'config.yaml'), `pkictl:\n  server: ${server.url}\n  caFingerprint: ${server.caFingerprint}\n`);
  const pkictl = join(repoRoot, 'bin', 'pkictl');
  const env = {...home.env, BROWSER: 'true', BCL_DISABLE_UPDATE_CHECK: '1'};

  step('pkictl login --device (once: the benchmark starts signed in)');
  await new Promise((resolve, reject) => {
    const child = spawn(pkictl, ['login', '--device', '--json'], {env, stdio: ['ignore', 'pipe', 'pipe']});
    let err = '';
    let acted = false;
    child.stderr.on('data', (d) => {
      err += d;
      const m = /enter the code:\s+(\S+)\s/.exec(err);
      if (m && !acted) {
        acted = true;
        oidc.approveDevice(m[1], 'ann@example.com').catch(reject);
      }
    });
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`pkictl login exited ${code}: ${err}`))));
  });

  step(`round trip: pkictl request against the server vs openssl req + openssl x509 -req (${ROUND_TRIPS} rounds, alternating)`);
  const ext = join(work.path, 'ext.cnf');
  writeFileSync(ext, 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectAltName=email:ann@example.com\n');
  const timed = (f) => {
    const t = performance.now();
    f();
    return performance.now() - t;
  };
  const request = () => {
    const out = execFileSync(pkictl, ['request', '--json'], {env, encoding: 'utf8'});
    if (JSON.parse(out).result.status !== 'issued') throw new Error(`pkictl request: ${out}`);
  };
  const openssl = (i) => {
    execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-noenc', '-keyout', join(work.path, `k${i}.pem`), '-subj', '/CN=ann@example.com', '-out', join(work.path, `r${i}.csr`)], {stdio: 'ignore'});
    execFileSync('openssl', ['x509', '-req', '-in', join(work.path, `r${i}.csr`), '-CA', server.caCert, '-CAkey', server.caKey, '-set_serial', `0x${Date.now().toString(16)}${i}`, '-days', '90', '-extfile', ext, '-out', join(work.path, `c${i}.pem`)], {stdio: 'ignore'});
  };
  // The fixed price of any pkictl command (Node, the CLI, the configuration of every tool): what request adds is the rest.
  const config = () => execFileSync(pkictl, ['config', '--json'], {env, stdio: 'ignore'});
  // The same work in Node with no CLI framework (scripts/lib/pki-request-floor.cjs), signed in
  // with a session of its own; the token goes in its environment, never on its command line.
  const floorDir = join(work.path, 'floor-credentials');
  const floorSession = await (await fetch(`${server.url}/v1/sessions`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({idToken: await oidc.mintIdToken({user: 'ann@example.com'})})})).json();
  const floorEnv = {...env, PKI_FLOOR_TOKEN: floorSession.token};
  const bare = () => execFileSync(process.execPath, [join(repoRoot, 'scripts', 'lib', 'pki-request-floor.cjs'), server.url, server.caFingerprint, floorDir, 'ann@example.com'], {env: floorEnv, stdio: ['ignore', 'ignore', 'inherit']});
  // The first runs make the commands' code caches; then each round runs all four, so a change in
  // the machine's speed during the run weighs on each of them alike.
  request();
  config();
  bare();
  const viaServer = [];
  const byHand = [];
  const floor = [];
  const noFramework = [];
  for (let i = 0; i < ROUND_TRIPS; i++) {
    viaServer.push(timed(request));
    byHand.push(timed(() => openssl(i)));
    floor.push(timed(config));
    noFramework.push(timed(bare));
  }
  const s = median(viaServer);
  const h = median(byHand);
  lines.push(`| \`pkictl request\` against the server (key, CSR, issuance, files written) | ${s.toFixed(0)} ms | ${h.toFixed(0)} ms | ${(s / h).toFixed(2)}x | ≤ 1.5x ${s / h <= 1.5 ? '✓' : '✗'} |`);
  lines.push(`| \`pkictl config\` (what every pkictl command costs before its own work), for comparison | ${median(floor).toFixed(0)} ms | ${h.toFixed(0)} ms | ${(median(floor) / h).toFixed(2)}x | |`);
  lines.push(`| the same request in Node with no CLI framework (scripts/lib/pki-request-floor.cjs), for comparison | ${median(noFramework).toFixed(0)} ms | ${h.toFixed(0)} ms | ${(median(noFramework) / h).toFixed(2)}x | |`);
  if (GIT_MS > 0) lines.push(`| the Git flow end to end (request, approve, fetch), for comparison | ${GIT_MS.toFixed(0)} ms | ${h.toFixed(0)} ms | ${(GIT_MS / h).toFixed(2)}x | |`);

  step(`throughput: ${REQUESTS} issuances, ${CONCURRENCY} concurrent clients, 2 replicas, one PostgreSQL`);
  const tokens = [];
  for (let i = 0; i < CONCURRENCY; i++) {
    const res = await fetch(`${server.url}/v1/sessions`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({idToken: await oidc.mintIdToken({user: i % 2 ? 'bob@example.com' : 'ann@example.com'})})});
    tokens.push((await res.json()).token);
  }
  const csrs = [];
  for (let i = 0; i < 100; i++) {
    const email = i % 2 ? 'bob@example.com' : 'ann@example.com';
    const keys = generateKeyPairSync('ec', {namedCurve: 'P-256'});
    csrs.push({email, body: JSON.stringify({csr: await createCsr({...keys, commonName: email, sans: [{type: 'email', value: email}]}), profile: 'client'})});
  }
  // Each round: `total` issuances from CONCURRENCY clients, each with its kept-alive connection to one replica.
  const mine = [0, 1].map((odd) => csrs.filter((x) => x.email === (odd ? 'bob@example.com' : 'ann@example.com')));
  const issueAll = (total) =>
    closedLoop({
      count: total,
      concurrency: CONCURRENCY,
      expect: 201,
      send: (c, i) => ({origin: server.replicas[c % 2].url, path: '/v1/requests', headers: {'content-type': 'application/json', authorization: `Bearer ${tokens[c]}`}, body: mine[c % 2][i % mine[c % 2].length].body}),
    });
  // Not counted: the replicas' first issuances run before V8 has optimized their code.
  step(`warm-up: ${WARMUP} issuances (not counted)`);
  const warm = await issueAll(WARMUP);
  if (warm.failures > 0) throw new Error(`${warm.failures} of the warm-up issuances failed`);
  // CPU time per issuance of the replicas and of PostgreSQL: what the rate would be on cores of
  // our own, whatever else the machine runs.
  const cpu = () => ({servers: server.replicas.reduce((a, r) => a + cpuMs(r.pid), 0), postgres: postgresPids(pg).reduce((a, p) => a + cpuMs(p), 0)});
  const validClientCertificates = async () => Number(await server.sql("select count(*) from certificates where status = 'valid' and profile = 'client'"));
  const validBefore = await validClientCertificates();
  const before = cpu();
  const {wall, latencies, failures} = await issueAll(REQUESTS);
  const seconds = wall / 1000;
  const after = cpu();
  const perIssuance = {servers: (after.servers - before.servers) / REQUESTS, postgres: (after.postgres - before.postgres) / REQUESTS};
  const rate = REQUESTS / seconds;
  const committed = (await validClientCertificates()) - validBefore;
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  lines.push(`| CPU per issuance: the two replicas ${perIssuance.servers.toFixed(1)} ms, PostgreSQL ${perIssuance.postgres.toFixed(1)} ms (load average ${load} during the run) | ${(2000 / (perIssuance.servers + perIssuance.postgres)).toFixed(0)}/s on 2 idle cores | | | |`);
  lines.push(`| issuances per second, ${CONCURRENCY} clients, 2 replicas + PostgreSQL on ${execFileSync('nproc', {encoding: 'utf8'}).trim()} cores (${REQUESTS} requests, ${failures} failed, ${committed} committed) | ${rate.toFixed(0)}/s | | p50 ${median(latencies).toFixed(1)} ms, p99 ${pct(latencies, 99).toFixed(1)} ms | ≥ 500/s ${rate >= 500 ? '✓' : '✗'} |`);
} finally {
  home.remove();
  await server.stop();
  await oidc.stop();
  await pg.stop();
  work.remove();
}
process.stdout.write(`\nPKI server (medians of ${ROUND_TRIPS} alternating rounds; ${CONCURRENCY} concurrent clients)\n\n| measured | PKI server | by hand (openssl) | ratio | goal |\n| --- | --- | --- | --- | --- |\n${lines.join('\n')}\n`);
