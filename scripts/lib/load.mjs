// The load generator and CPU accounting of the throughput benchmarks (scripts/bench-cssh,
// scripts/bench-pki), one definition for both.
//
// The generator shares the machine's two cores with the servers it measures, so what it costs is
// taken from them: it uses undici's Client (one kept-alive connection per client and origin, no
// pipelining), which spends about a third less CPU per request than node:https does.
import {readdirSync, readFileSync} from 'node:fs';
import {performance} from 'node:perf_hooks';
import {Client} from 'undici';

/**
 * `count` requests in all from `concurrency` clients, each sending its next request when its last
 * one was answered. `send(c, i)` says what client c sends as request i: `{origin, path, headers,
 * body}` (method POST). `connect` holds the TLS options (ca, cert, key) of every connection.
 * Returns the wall time, each request's latency, and how many were not answered with `expect`.
 */
export async function closedLoop({count, concurrency, send, expect, connect}) {
  const latencies = [];
  let failures = 0;
  let next = 0;
  const client = async (c) => {
    const connections = new Map();
    try {
      for (let i = next++; i < count; i = next++) {
        const {origin, path, headers, body} = send(c, i);
        let connection = connections.get(origin);
        if (!connection) connections.set(origin, (connection = new Client(origin, {pipelining: 1, ...(connect ? {connect} : {})})));
        const t = performance.now();
        const res = await connection.request({method: 'POST', path, headers, body});
        await res.body.dump();
        latencies.push(performance.now() - t);
        if (res.statusCode !== expect) failures++;
      }
    } finally {
      await Promise.all([...connections.values()].map((x) => x.close()));
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({length: concurrency}, (_, c) => client(c)));
  return {wall: performance.now() - t0, latencies, failures};
}

/** CPU time a process has used, in ms (Linux /proc accounting, 10 ms ticks); 0 once it is gone. */
export function cpuMs(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return 0;
  }
}

/** The processes of a PostgreSQL from testkit's startPostgres: the postmaster and its backends. */
export function postgresPids(pg) {
  return readdirSync('/proc').filter((d) => {
    if (!/^\d+$/.test(d)) return false;
    try {
      const cmdline = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      return cmdline.startsWith(pg.binDir) || cmdline.startsWith('postgres:');
    } catch {
      return false;
    }
  });
}

/** This process's own CPU time so far, in ms (the load generator's share). */
export const ownCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
