// The body of scripts/bench-cssh: certificate issuance by cssh-authz (over HTTPS with mutual TLS)
// side by side with what an admin would otherwise run (ssh-keygen -s with the CA key at hand), in
// one run, as ratios. Prints a Markdown table for docs/performance.md.
import {execFileSync, spawnSync} from 'node:child_process';
import {generateKeyPairSync} from 'node:crypto';
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {Agent, request} from 'node:https';
import {join} from 'node:path';
import {performance} from 'node:perf_hooks';
import {formatPublicKey, sshPublicKey} from '../../packages/openssh-formats/dist/index.js';
import {createOpensslPki, ensureLoginUsers, isolatedHome, repoRoot, startCsshAuthz, startSshd, tempDir} from '../../packages/testkit/dist/index.js';

const [REQUESTS = 1000, CONCURRENCY = 50, ROUNDS = 10] = process.argv.slice(2).map(Number);
const LOGIN = 'bcl-ops';
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const ms = (f) => {
  const t = performance.now();
  f();
  return performance.now() - t;
};
const step = (m) => process.stderr.write(`==> ${m}\n`);

const work = tempDir('bcl-bench-cssh-');
const pki = await createOpensslPki('Bench PKI');
const ann = await pki.issueClient({email: 'ann@example.com'});
const authz = await startCsshAuthz({pki, rules: `groups:\n  sre: [ann@example.com]\nhostGroups:\n  all: ["*"]\ngrants:\n  - {group: sre, hosts: all, principals: [${LOGIN}, deploy]}\n`});
const rows = [];
try {
  // 1. Throughput: REQUESTS issuances from CONCURRENCY kept-alive mTLS clients.
  step(`throughput: ${REQUESTS} issuances, ${CONCURRENCY} concurrent clients`);
  const tls = {ca: readFileSync(pki.caCert), cert: readFileSync(ann.cert), key: readFileSync(ann.key)};
  const keys = Array.from({length: REQUESTS}, () => {
    const {type, blob} = sshPublicKey(generateKeyPairSync('ed25519').publicKey);
    return formatPublicKey(type, blob);
  });
  const latencies = [];
  let next = 0;
  let failures = 0;
  const client = async () => {
    const agent = new Agent({...tls, keepAlive: true, maxSockets: 1});
    for (let i = next++; i < REQUESTS; i = next++) {
      const t = performance.now();
      const status = await new Promise((resolve, reject) => {
        const req = request(`${authz.url}/v1/certificates`, {method: 'POST', agent, headers: {'content-type': 'application/json'}}, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode));
        });
        req.on('error', reject);
        req.end(JSON.stringify({publicKey: keys[i], ttl: '1h'}));
      });
      if (status !== 201) failures++;
      latencies.push(performance.now() - t);
    }
    agent.destroy();
  };
  const t0 = performance.now();
  await Promise.all(Array.from({length: CONCURRENCY}, client));
  const wall = performance.now() - t0;
  const authzRate = REQUESTS / (wall / 1000);

  // The same number of signatures by hand: ssh-keygen -s, one process per certificate.
  const manualCount = Math.min(REQUESTS, 200);
  step(`baseline: ssh-keygen -s for ${manualCount} certificates`);
  const keyDir = join(work.path, 'keys');
  mkdirSync(keyDir);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(work.path, 'ca')]);
  for (let i = 0; i < manualCount; i++) writeFileSync(join(keyDir, `k${i}.pub`), `${keys[i]}\n`);
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
  for (let r = 0; r < ROUNDS; r++) {
    certTimes.push(ms(() => execFileSync(csshctl, ['cert', '--principal', LOGIN, '--ttl', '1h'], {env, stdio: 'ignore'})));
    const k = join(work.path, `hand-${r}`);
    handTimes.push(
      ms(() => {
        execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', k]);
        execFileSync('ssh-keygen', ['-q', '-s', join(work.path, 'ca'), '-I', 'ann', '-n', LOGIN, '-V', '-1m:+1h', `${k}.pub`]);
      }),
    );
  }
  rows.push(['one certificate, end to end (median)', `csshctl cert: ${median(certTimes).toFixed(0)} ms`, `ssh-keygen -t ed25519 + ssh-keygen -s: ${median(handTimes).toFixed(0)} ms`, `${(median(certTimes) / median(handTimes)).toFixed(2)}x`]);

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
} finally {
  await authz.stop();
  pki.remove();
  work.remove();
}

console.log(`\n\`scripts/bench-cssh ${REQUESTS} ${CONCURRENCY} ${ROUNDS}\`, ${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${spawnSync('ssh', ['-V'], {encoding: 'utf8'}).stderr.trim()}:\n`);
console.log('| measure | BCL | by hand | ratio (BCL / by hand) |');
console.log('| --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
