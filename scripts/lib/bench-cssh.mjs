// The body of scripts/bench-cssh: certificate issuance by cssh-authz (over HTTPS with mutual TLS)
// side by side with what an admin would otherwise run (ssh-keygen -s with the CA key at hand), in
// one run, as ratios; then two replicas on one PostgreSQL next to the single node, and the time
// from `csshctl revoke` to sshd refusing on a host. Prints Markdown tables for docs/performance.md.
import {execFileSync, spawnSync} from 'node:child_process';
import {generateKeyPairSync} from 'node:crypto';
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {availableParallelism} from 'node:os';
import {join} from 'node:path';
import {performance} from 'node:perf_hooks';
import {formatPublicKey, sshPublicKey} from '../../packages/openssh-formats/dist/index.js';
import {createOpensslPki, ensureLoginUsers, isolatedHome, repoRoot, startCsshAuthz, startCsshDaemon, startPostgres, startSshd, tempDir, waitFor} from '../../packages/testkit/dist/index.js';
import {closedLoop, cpuMs, ownCpuMs, postgresPids} from './load.mjs';
import {median, pct} from './stats.mjs';

const [REQUESTS = 5000, CONCURRENCY = 50, ROUNDS = 10, DAEMON_INTERVAL = 30] = process.argv.slice(2).map(Number);
const LOGIN = 'bcl-ops';
const ms = (f) => {
  const t = performance.now();
  f();
  return performance.now() - t;
};
const step = (m) => process.stderr.write(`==> ${m}\n`);

const tlsOf = (pki, who) => ({ca: readFileSync(pki.caCert), cert: readFileSync(who.cert), key: readFileSync(who.key)});
let tls;
const newKey = () => {
  const {type, blob} = sshPublicKey(generateKeyPairSync('ed25519').publicKey);
  return formatPublicKey(type, blob);
};

/**
 * REQUESTS issuances from CONCURRENCY kept-alive mTLS clients (after a warm-up), and the CPU each
 * issuance took: the servers' (`pids`), the database's (`pg`) and the load generator's own. Each
 * client keeps its one connection to one replica, the clients spread evenly over them: the
 * replicas check the client certificate themselves, so what balances them passes TLS through
 * (layer 4, as a Kubernetes Service does) and a connection stays with the replica it reached.
 */
async function throughput(urls, pids, pg) {
  const keys = Array.from({length: REQUESTS}, newKey);
  const issueAll = (count) =>
    closedLoop({
      count,
      concurrency: CONCURRENCY,
      connect: tls,
      expect: 201,
      send: (c, i) => ({origin: urls[c % urls.length], path: '/v1/certificates', headers: {'content-type': 'application/json'}, body: JSON.stringify({publicKey: keys[i % keys.length], ttl: '1h'})}),
    });
  // Warm-up: connections, JIT, the database's caches (a thousand: with 200, a 1,000-issuance run
  // still measured mostly code V8 had not optimized yet, at twice the CPU per issuance).
  await issueAll(Math.min(1000, REQUESTS));
  const cpu = () => ({servers: pids.reduce((a, p) => a + cpuMs(p), 0), postgres: pg ? postgresPids(pg).reduce((a, p) => a + cpuMs(p), 0) : 0, generator: ownCpuMs()});
  const before = cpu();
  const {wall, latencies, failures} = await issueAll(REQUESTS);
  const after = cpu();
  const per = Object.fromEntries(Object.keys(before).map((k) => [k, (after[k] - before[k]) / REQUESTS]));
  return {rate: REQUESTS / (wall / 1000), wall, latencies, failures, cpu: per};
}
/** A throughput run's CPU per issuance, and the rate that CPU would allow on the machine's cores with the load generator elsewhere. */
const cpuText = ({cpu}, who) => {
  const cores = availableParallelism();
  return `CPU per issuance: ${who} ${cpu.servers.toFixed(2)} ms${cpu.postgres ? `, PostgreSQL ${cpu.postgres.toFixed(2)} ms` : ''}, the load generator ${cpu.generator.toFixed(2)} ms (${((cores * 1000) / (cpu.servers + cpu.postgres)).toFixed(0)}/s on ${cores} cores without the generator)`;
};

const work = tempDir('bcl-bench-cssh-');
const pki = await createOpensslPki('Bench PKI');
const ann = await pki.issueClient({email: 'ann@example.com'});
const authz = await startCsshAuthz({pki, rules: `groups:\n  sre: [ann@example.com]\nhostGroups:\n  all: ["*"]\ngrants:\n  - {group: sre, hosts: all, principals: [${LOGIN}, deploy]}\n`});
const rows = [];
const replicaRows = [];
tls = tlsOf(pki, ann);
try {
  // 1. Throughput: REQUESTS issuances from CONCURRENCY kept-alive mTLS clients.
  step(`throughput: ${REQUESTS} issuances, ${CONCURRENCY} concurrent clients`);
  const single = await throughput([authz.url], [authz.pid]);
  const {rate: authzRate, wall, latencies, failures} = single;

  // The same number of signatures by hand: ssh-keygen -s, one process per certificate.
  const manualCount = Math.min(REQUESTS, 200);
  step(`baseline: ssh-keygen -s for ${manualCount} certificates`);
  const keyDir = join(work.path, 'keys');
  mkdirSync(keyDir);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(work.path, 'ca')]);
  for (let i = 0; i < manualCount; i++) writeFileSync(join(keyDir, `k${i}.pub`), `${newKey()}\n`);
  const manualWall = ms(() => {
    for (let i = 0; i < manualCount; i++) {
      execFileSync('ssh-keygen', ['-q', '-s', join(work.path, 'ca'), '-I', `ann@example.com/${i}`, '-n', `${LOGIN},deploy`, '-z', String(i + 1), '-V', '-1m:+1h', join(keyDir, `k${i}.pub`)]);
    }
  });
  const manualRate = manualCount / (manualWall / 1000);
  rows.push(['issuances per second', `cssh-authz, ${CONCURRENCY} mTLS clients: **${authzRate.toFixed(0)}/s** (${REQUESTS} in ${(wall / 1000).toFixed(2)} s; p50 ${median(latencies).toFixed(1)} ms, p95 ${pct(latencies, 95).toFixed(1)} ms; ${failures} failed)`, `ssh-keygen -s, one per certificate: ${manualRate.toFixed(0)}/s (${manualCount} in ${(manualWall / 1000).toFixed(2)} s)`, `${(authzRate / manualRate).toFixed(2)}x`]);

  // 2. One certificate for an engineer: csshctl cert (new key, mTLS, store) vs ssh-keygen -t + -s.
  step(`round trip: csshctl cert vs ssh-keygen -t ed25519 + ssh-keygen -s (${ROUNDS} rounds)`);
  const home = isolatedHome();
  mkdirSync(join(home.xdg.config, 'bcl'), {recursive: true});
  writeFileSync(join(home.xdg.config, 'bcl', 'config.yaml'), `csshctl:\n  server: ${authz.url}\n  serverCa: ${authz.serverCa}\n  certificate:\n    cert: ${ann.cert}\n    key: ${ann.key}\n`);
  const env = {...process.env, ...home.env};
  const csshctl = join(repoRoot, 'bin', 'csshctl');
  spawnSync(csshctl, ['cert'], {env}); // warm the compile cache
  const certTimes = [];
  const handTimes = [];
  const floorTimes = [];
  const bareTimes = [];
  const floorDir = join(work.path, 'floor');
  mkdirSync(floorDir, {mode: 0o700});
  const floor = [join(repoRoot, 'scripts', 'lib', 'cssh-cert-floor.cjs'), authz.url, authz.serverCa, ann.cert, ann.key, floorDir, LOGIN];
  execFileSync(process.execPath, floor); // it works before it is timed
  for (let r = 0; r < ROUNDS; r++) {
    certTimes.push(ms(() => execFileSync(csshctl, ['cert', '--principal', LOGIN, '--ttl', '1h'], {env, stdio: 'ignore'})));
    floorTimes.push(ms(() => execFileSync(process.execPath, floor, {stdio: 'ignore'})));
    bareTimes.push(ms(() => execFileSync(process.execPath, ['-e', '0'], {stdio: 'ignore'})));
    const k = join(work.path, `hand-${r}`);
    handTimes.push(
      ms(() => {
        execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', k]);
        execFileSync('ssh-keygen', ['-q', '-s', join(work.path, 'ca'), '-I', 'ann', '-n', LOGIN, '-V', '-1m:+1h', `${k}.pub`]);
      }),
    );
  }
  rows.push(['one certificate, end to end (median)', `csshctl cert: ${median(certTimes).toFixed(0)} ms`, `ssh-keygen -t ed25519 + ssh-keygen -s: ${median(handTimes).toFixed(0)} ms`, `${(median(certTimes) / median(handTimes)).toFixed(2)}x`]);
  rows.push(['the same in Node with no framework (median; scripts/lib/cssh-cert-floor.cjs)', `new key, one mTLS POST, three 0600 files: ${median(floorTimes).toFixed(0)} ms`, `ssh-keygen -t ed25519 + ssh-keygen -s: ${median(handTimes).toFixed(0)} ms`, `${(median(floorTimes) / median(handTimes)).toFixed(2)}x`]);
  rows.push(['Node starting and exiting (median; `node -e 0`)', `${median(bareTimes).toFixed(0)} ms`, `ssh-keygen -t ed25519 + ssh-keygen -s: ${median(handTimes).toFixed(0)} ms`, `${(median(bareTimes) / median(handTimes)).toFixed(2)}x`]);

  // 3. Logging in with a still-valid certificate: csshctl ssh vs ssh with the same files (root only: sshd).
  if (process.getuid?.() === 0) {
    step(`login: csshctl ssh (reusing its certificate) vs ssh (${ROUNDS} rounds)`);
    await ensureLoginUsers([LOGIN]);
    const sshd = await startSshd({trustedUserCaKeys: (await authz.get('/v1/ca.pub')).body.toString()});
    try {
      const opts = sshd.sshOptions();
      execFileSync(csshctl, ['ssh', `${LOGIN}@127.0.0.1`, '--', ...opts, 'true'], {env});
      // The certificate csshctl ssh reuses: its host slot, else the default one from csshctl cert.
      const hostSlot = join(home.xdg.data, 'bcl', 'csshctl', 'host-127.0.0.1');
      const slot = existsSync(hostSlot) ? hostSlot : join(home.xdg.data, 'bcl', 'csshctl', 'default');
      const viaCsshctl = [];
      const viaSsh = [];
      for (let r = 0; r < ROUNDS; r++) {
        viaCsshctl.push(ms(() => execFileSync(csshctl, ['ssh', `${LOGIN}@127.0.0.1`, '--', ...opts, 'true'], {env, stdio: 'ignore'})));
        viaSsh.push(ms(() => execFileSync('ssh', [...opts, '-o', `IdentityFile=${slot}/id`, '-o', `CertificateFile=${slot}/id-cert.pub`, '-o', 'IdentitiesOnly=yes', `${LOGIN}@127.0.0.1`, 'true'], {stdio: 'ignore'})));
      }
      rows.push(['login and run `true` (median)', `csshctl ssh: ${median(viaCsshctl).toFixed(0)} ms`, `ssh -o CertificateFile=…: ${median(viaSsh).toFixed(0)} ms`, `${(median(viaCsshctl) / median(viaSsh)).toFixed(2)}x`]);
    } finally {
      await sshd.stop();
    }
  }
  home.remove();

  // 4. Two replicas on one PostgreSQL, durable as in production (fsync and synchronous_commit on).
  step(`replicas: ${REQUESTS} issuances over two replicas on one PostgreSQL, ${CONCURRENCY} concurrent clients`);
  const pg = await startPostgres({settings: {fsync: 'on', synchronous_commit: 'on', full_page_writes: 'on'}});
  const replicated = await startCsshAuthz({pki, database: pg, replicas: 2, rules: `groups:\n  sre: [ann@example.com]\nhostGroups:\n  all: ["*"]\ngrants:\n  - {group: sre, hosts: all, principals: [${LOGIN}, deploy]}\nadmins: [sre]\n`});
  try {
    const two = await throughput(replicated.replicas.map((r) => r.url), replicated.replicas.map((r) => r.pid), pg);
    replicaRows.push([
      'issuances per second',
      `two replicas, one PostgreSQL ${pg.version}, ${CONCURRENCY} mTLS clients: **${two.rate.toFixed(0)}/s** (${REQUESTS} in ${(two.wall / 1000).toFixed(2)} s; p50 ${median(two.latencies).toFixed(1)} ms, p95 ${pct(two.latencies, 95).toFixed(1)} ms; ${two.failures} failed)`,
      `single node, state directory: ${authzRate.toFixed(0)}/s`,
      `${(two.rate / authzRate).toFixed(2)}x`,
    ]);
    const total = (r) => r.cpu.servers + r.cpu.postgres;
    replicaRows.push([cpuText(two, 'the two replicas'), cpuText(single, 'the single node'), `${(total(two) / total(single)).toFixed(2)}x (the servers and the database)`]);

    // 5. Revocation: csshctl revoke through replica A until sshd refuses, its host kept by cssh-daemon polling replica B.
    if (process.getuid?.() === 0) {
      step(`revocation: csshctl revoke (replica A) to sshd refusing (cssh-daemon on replica B, every ${DAEMON_INTERVAL} s), ${ROUNDS} rounds`);
      await ensureLoginUsers([LOGIN]);
      const sshd = await startSshd({trustedUserCaKeys: replicated.caPublicKey, revokedKeys: ''});
      const [a, b] = replicated.replicas;
      const daemon = await startCsshDaemon({server: b.url, serverCa: replicated.serverCa, hostname: '127.0.0.1', krlFile: sshd.revokedKeysFile, trustedCaKeysFile: sshd.trustedUserCaKeysFile, interval: `${DAEMON_INTERVAL}s`});
      const admin = isolatedHome();
      mkdirSync(join(admin.xdg.config, 'bcl'), {recursive: true});
      writeFileSync(join(admin.xdg.config, 'bcl', 'config.yaml'), `csshctl:\n  server: ${a.url}\n  serverCa: ${replicated.serverCa}\n  certificate:\n    cert: ${ann.cert}\n    key: ${ann.key}\n`);
      try {
        await waitFor('the daemon\'s first cycle', () => existsSync(join(daemon.stateDir, 'status.json')), {timeoutMs: 30_000});
        const login = (k) => spawnSync('ssh', [...sshd.sshOptions(), '-o', `IdentityFile=${k}`, '-o', `CertificateFile=${k}-cert.pub`, '-o', 'IdentitiesOnly=yes', `${LOGIN}@127.0.0.1`, 'true'], {stdio: 'ignore', timeout: 30_000}).status;
        const effective = [];
        for (let r = 0; r < ROUNDS; r++) {
          const k = join(work.path, `revoke-${r}`);
          execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', k]);
          const res = await replicated.request('/v1/certificates', {json: {publicKey: readFileSync(`${k}.pub`, 'utf8').trim(), principals: [LOGIN], ttl: '1h'}, client: ann});
          if (res.status !== 201) throw new Error(`issuance failed: ${res.text}`);
          writeFileSync(`${k}-cert.pub`, `${res.json.certificate}\n`);
          if (login(k) !== 0) throw new Error('the new certificate does not log in');
          // Spread the revocations over the daemon's cycle, as real ones are.
          await new Promise((resolve) => setTimeout(resolve, Math.random() * DAEMON_INTERVAL * 1000));
          const t0 = performance.now();
          execFileSync(join(repoRoot, 'bin', 'csshctl'), ['revoke', '--serial', res.json.serial, '--reason', 'bench'], {env: {...process.env, ...admin.env}, stdio: 'ignore'});
          await waitFor('sshd to refuse the revoked certificate', () => login(k) !== 0, {timeoutMs: 60_000, intervalMs: 50});
          effective.push((performance.now() - t0) / 1000);
        }
        replicaRows.push([
          `revocation: \`csshctl revoke\` to sshd refusing (median of ${ROUNDS})`,
          `**${median(effective).toFixed(1)} s** (min ${Math.min(...effective).toFixed(1)} s, max ${Math.max(...effective).toFixed(1)} s; cssh-daemon every ${DAEMON_INTERVAL} s on the other replica)`,
          'bound without notifications: 2 s (a held request looks every second at a version cached for a second) + 1 s (the daemon\'s cycle spacing) + one request; the daemon interval is not in it',
          '',
        ]);
      } finally {
        admin.remove();
        await daemon.stop();
        await sshd.stop();
      }
    }
  } finally {
    await replicated.stop();
    await pg.stop();
  }
} finally {
  await authz.stop();
  pki.remove();
  work.remove();
}

console.log(`\n\`scripts/bench-cssh ${REQUESTS} ${CONCURRENCY} ${ROUNDS}\`, ${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${spawnSync('ssh', ['-V'], {encoding: 'utf8'}).stderr.trim()}:\n`);
console.log('| measure | BCL | by hand | ratio (BCL / by hand) |');
console.log('| --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
console.log('\n| measure | replicas | single node | ratio (replicas / single node) |');
console.log('| --- | --- | --- | --- |');
for (const r of replicaRows) console.log(`| ${r.join(' | ')} |`);
