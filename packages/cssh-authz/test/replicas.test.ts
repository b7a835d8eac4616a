// Replicas as they run in production: two (then three) real cssh-authz processes on one real
// PostgreSQL, each serving mutual TLS on its own port; a host whose real cssh-daemon polls only
// replica B keeps the KRL of a real sshd. Bounded: 500 issuances, one revocation, one kill -9.
import {execFileSync, spawnSync} from 'node:child_process';
import {generateKeyPairSync} from 'node:crypto';
import {existsSync, readFileSync, writeFileSync} from 'node:fs';
import {Agent, request} from 'node:https';
import {join} from 'node:path';
import {PostgresAuditLog} from '@bcl/audit';
import {formatPublicKey, sshPublicKey} from '@bcl/openssh-formats';
import {openDatabase, sql} from '@bcl/postgres';
import {
  createOpensslPki,
  type CsshAuthz,
  type CsshAuthzReplica,
  type CsshDaemon,
  ensureLoginUsers,
  type IssuedX509,
  type OpensslPki,
  type PostgresServer,
  repoRoot,
  runCli,
  type SshdServer,
  startCsshAuthz,
  startCsshDaemon,
  startPostgres,
  startSshd,
  tempDir,
  waitFor,
} from '@bcl/testkit';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {CHANGE_POLL_MS} from '../src/store/postgres-store.js';

const LOGIN = 'bcl-rep-ops';
/** cssh-daemon's interval in this test: its default, far longer than the bound. */
const DAEMON_INTERVAL_MS = 30_000;
/**
 * The revocation bound: replica B learns of the commit by NOTIFY (at most CHANGE_POLL_MS late
 * when a notification is lost) and answers the daemon's held KRL request; the daemon starts its
 * next cycle at most a second after the last; plus one request and sshd reading the file, on a
 * loaded machine. The interval is not in it: the daemon does not wait for its next cycle.
 */
const REVOCATION_BOUND_MS = CHANGE_POLL_MS + 1000 + 3000;

let pg: PostgresServer;
let pki: OpensslPki;
let authz: CsshAuthz;
let ann: IssuedX509;
let tls: {ca: Buffer; cert: Buffer; key: Buffer};
const work = tempDir('cssh-replicas-');

beforeAll(async () => {
  [pg, pki] = await Promise.all([startPostgres(), createOpensslPki('Replica PKI')]);
  ann = await pki.issueClient({email: 'ann@example.com'});
  tls = {ca: readFileSync(pki.caCert), cert: readFileSync(ann.cert), key: readFileSync(ann.key)};
  authz = await startCsshAuthz({
    pki,
    database: pg,
    replicas: 2,
    secretsKey: true,
    rules: `groups:\n  sre: [ann@example.com]\nhostGroups:\n  all: ["*"]\ngrants:\n  - {group: sre, hosts: all, principals: [${LOGIN}, deploy]}\nadmins: [sre]\n`,
  });
}, 180_000);

afterAll(async () => {
  await authz?.stop();
  await pg?.stop();
  pki?.remove();
  work.remove();
});

/** SQL on the service's database, as its owner. */
async function query<T>(text: string): Promise<T[]> {
  const database = openDatabase({url: authz.databaseUrl!});
  try {
    return (await sql.raw<T>(text).execute(database.db)).rows;
  } finally {
    await database.close();
  }
}

const newKey = () => {
  const {type, blob} = sshPublicKey(generateKeyPairSync('ed25519').publicKey);
  return formatPublicKey(type, blob);
};

/** POST /v1/certificates on a kept-alive mTLS connection: the status and, on 201, the serial. */
function issue(agent: Agent, base: string, publicKey: string): Promise<{status: number; serial?: string}> {
  return new Promise((resolve) => {
    const req = request(`${base}/v1/certificates`, {method: 'POST', agent, headers: {'content-type': 'application/json'}}, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({status: res.statusCode ?? 0, ...(res.statusCode === 201 ? {serial: (JSON.parse(body) as {serial: string}).serial} : {})}));
      res.on('error', () => resolve({status: 0}));
    });
    // A replica killed mid-request: the client sees a cut connection, never a certificate.
    req.on('error', () => resolve({status: 0}));
    req.end(JSON.stringify({publicKey, ttl: '1h'}));
  });
}

/** `count` issuances from `clients` concurrent clients, spread over the replicas in turn. */
async function issueMany(replicas: readonly CsshAuthzReplica[], count: number, clients: number, onAnswer?: (answered: number) => void) {
  const keys = Array.from({length: count}, newKey);
  const answers: {status: number; serial?: string}[] = [];
  let next = 0;
  await Promise.all(
    Array.from({length: clients}, async (_, c) => {
      const agent = new Agent({...tls, keepAlive: true, maxSockets: 1});
      try {
        for (let i = next++; i < count; i = next++) {
          answers.push(await issue(agent, replicas[(c + i) % replicas.length]!.url, keys[i]!));
          onAnswer?.(answers.length);
        }
      } finally {
        agent.destroy();
      }
    }),
  );
  return answers;
}

describe('two cssh-authz replicas on one database', () => {
  it('give 500 concurrent issuances across both unique serials, each with its ledger row and its audit row', async () => {
    const [a, b] = authz.replicas;
    const answers = await issueMany([a!, b!], 500, 50);
    expect(answers.filter((x) => x.status !== 201)).toEqual([]);
    const serials = answers.map((x) => x.serial!);
    expect(new Set(serials).size).toBe(500);
    const ledger = await query<{serial: string}>('select serial::text as serial from cssh_issued');
    expect(new Set(ledger.map((r) => r.serial))).toEqual(new Set(serials));
    const issued = (await authz.auditRecords()).filter((r) => r.event === 'certificate.issued');
    expect(issued).toHaveLength(500);
    expect(new Set(issued.map((r) => r.serial))).toEqual(new Set(serials));
    // Both replicas appended to one chain, and it is whole.
    const owner = openDatabase({url: authz.databaseUrl!});
    try {
      expect(await new PostgresAuditLog({table: 'cssh_audit'}).verify(owner.db)).toMatchObject({ok: true, problems: []});
    } finally {
      await owner.close();
    }
  });

  describe('a host whose cssh-daemon polls replica B', () => {
    let sshd: SshdServer;
    let daemon: CsshDaemon;

    beforeAll(async () => {
      await ensureLoginUsers([LOGIN]);
      sshd = await startSshd({trustedUserCaKeys: '# filled in by cssh-daemon\n', revokedKeys: ''});
      daemon = await startCsshDaemon({server: authz.replicas[1]!.url, serverCa: authz.serverCa, hostname: '127.0.0.1', krlFile: sshd.revokedKeysFile, trustedCaKeysFile: sshd.trustedUserCaKeysFile, interval: `${DAEMON_INTERVAL_MS / 1000}s`});
      // Its first cycle wrote the KRL; the next is an interval away.
      await waitFor('the daemon\'s first cycle', () => existsSync(join(daemon.stateDir, 'status.json')), {timeoutMs: 30_000});
    }, 120_000);

    afterAll(async () => {
      await daemon?.stop();
      await sshd?.stop();
    });

    const login = (key: string, cert: string) =>
      spawnSync('ssh', [...sshd.sshOptions(), '-o', `IdentityFile=${key}`, '-o', `CertificateFile=${cert}`, '-o', 'IdentitiesOnly=yes', `${LOGIN}@127.0.0.1`, 'whoami'], {encoding: 'utf8', timeout: 30_000});

    it('refuses at sshd, within the bound, a certificate revoked through replica A', async () => {
      const [a] = authz.replicas;
      const key = join(work.path, 'id');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
      const issued = await authz.request('/v1/certificates', {json: {publicKey: readFileSync(`${key}.pub`, 'utf8').trim(), principals: [LOGIN], ttl: '1h'}, client: ann});
      expect(issued.status, issued.text).toBe(201);
      writeFileSync(`${key}-cert.pub`, `${issued.json.certificate}\n`);
      const before = login(key, `${key}-cert.pub`);
      expect(before.stdout, before.stderr).toBe(`${LOGIN}\n`);

      const revokedAt = Date.now();
      const revoked = await new Promise<{status: number; body: {krlVersion: number; revoked: string[]}}>((resolve, reject) => {
        const req = request(`${a!.url}/v1/revoke`, {method: 'POST', ...tls, agent: false, headers: {'content-type': 'application/json'}}, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({status: res.statusCode ?? 0, body: JSON.parse(body)}));
        });
        req.on('error', reject);
        req.end(JSON.stringify({serial: issued.json.serial, reason: 'replica test'}));
      });
      expect(revoked).toMatchObject({status: 200, body: {revoked: [issued.json.serial]}});
      await waitFor('sshd to refuse the revoked certificate', () => login(key, `${key}-cert.pub`).status !== 0, {timeoutMs: REVOCATION_BOUND_MS, intervalMs: 200});
      const took = Date.now() - revokedAt;
      expect(took).toBeLessThanOrEqual(REVOCATION_BOUND_MS);
      // The KRL on the host is replica B's, at the version replica A's revocation made.
      const status = JSON.parse(readFileSync(join(daemon.stateDir, 'status.json'), 'utf8')) as {krl: {krlVersion: number}};
      expect(status.krl.krlVersion).toBe(revoked.body.krlVersion);
      expect(execFileSync('ssh-keygen', ['-Q', '-l', '-f', sshd.revokedKeysFile], {encoding: 'utf8'})).toContain(`serial: ${issued.json.serial}`);
    });
  });

  it('lose no ledger row when one replica is killed (kill -9) during issuance, and the others keep serving', async () => {
    const c = await authz.startReplica();
    const [a, b] = authz.replicas;
    let killed = false;
    const answers = await issueMany([c], 300, 20, (answered) => {
      if (!killed && answered >= 60) {
        killed = true;
        c.kill('SIGKILL');
      }
    });
    await c.exited;
    authz.replicas.splice(authz.replicas.indexOf(c), 1);
    const returned = answers.filter((x) => x.status === 201).map((x) => x.serial!);
    expect(returned.length).toBeGreaterThanOrEqual(60);
    expect(returned.length).toBeLessThan(300);
    // Every certificate a client received has its ledger row and its audit row.
    const ledger = new Set((await query<{serial: string}>('select serial::text as serial from cssh_issued')).map((r) => r.serial));
    expect(returned.filter((s) => !ledger.has(s))).toEqual([]);
    const audited = new Set((await authz.auditRecords()).filter((r) => r.event === 'certificate.issued').map((r) => r.serial));
    expect(returned.filter((s) => !audited.has(s))).toEqual([]);
    // The others serve on, and the chain is whole.
    const after = await issueMany([a!, b!], 40, 4);
    expect(after.map((x) => x.status)).toEqual(Array(40).fill(201));
    const owner = openDatabase({url: authz.databaseUrl!});
    try {
      expect(await new PostgresAuditLog({table: 'cssh_audit'}).verify(owner.db)).toMatchObject({ok: true, problems: []});
    } finally {
      await owner.close();
    }
  });

  it('sign with the new CA key on every replica once `ca rotate` ran against the database, and serve both keys', async () => {
    const rotated = await runCli(join(repoRoot, 'bin', 'cssh-authz'), ['ca', 'rotate', '--config', authz.configFile, '--overlap', '1h', '--json']);
    expect(rotated.exitCode, rotated.stderr).toBe(0);
    const caKey = (line: string) => line.split(' ').slice(0, 2).join(' ');
    const rotatedTo = caKey((JSON.parse(rotated.stdout) as {publicKey: string}).publicKey);
    const get = (url: string) =>
      new Promise<string>((resolve, reject) => {
        request(url, {ca: tls.ca, agent: false}, (r) => {
          let body = '';
          r.on('data', (d) => (body += d));
          r.on('end', () => resolve(body));
        })
          .on('error', reject)
          .end();
      });
    /** The CA key that signed a new certificate from this replica. */
    const signer = async (replica: CsshAuthzReplica) => {
      const agent = new Agent({...tls, keepAlive: false});
      try {
        const body = await new Promise<string>((resolve, reject) => {
          const req = request(`${replica.url}/v1/certificates`, {method: 'POST', agent, headers: {'content-type': 'application/json'}}, (r) => {
            let text = '';
            r.on('data', (d) => (text += d));
            r.on('end', () => resolve(text));
          });
          req.on('error', reject);
          req.end(JSON.stringify({publicKey: newKey(), ttl: '1h'}));
        });
        return caKey((JSON.parse(body) as {caPublicKey: string}).caPublicKey);
      } finally {
        agent.destroy();
      }
    };
    const [a, b] = authz.replicas;
    await waitFor('both replicas to sign with the new key', async () => (await signer(a!)) === rotatedTo && (await signer(b!)) === rotatedTo, {timeoutMs: CHANGE_POLL_MS + 2000, intervalMs: 100});
    const served = (await get(`${b!.url}/v1/ca.pub`)).trim().split('\n').map(caKey);
    expect(served).toHaveLength(2);
    expect(served).toContain(rotatedTo);
  });
});
