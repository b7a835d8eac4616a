// A separate process using @bcl/files' lock, driven by the lock tests (argv[2] is a JSON job).
import {existsSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs';
import {acquireFileLock, withFileLock} from '../dist/index.js';

const job = JSON.parse(process.argv[2]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (job.mode === 'count') {
  // Read-modify-write of a counter under the lock; a second process inside at once is reported.
  for (let i = 0; i < job.times; i++) {
    await withFileLock(job.lock, async () => {
      try {
        writeFileSync(job.inside, String(process.pid), {flag: 'wx'});
      } catch {
        process.stderr.write(`overlap: ${readFileSync(job.inside, 'utf8')} was inside with ${process.pid}\n`);
        process.exit(3);
      }
      const n = Number(readFileSync(job.counter, 'utf8'));
      await sleep(1);
      writeFileSync(job.counter, String(n + 1));
      rmSync(job.inside);
    }, {timeoutMs: 60_000});
  }
} else if (job.mode === 'hold') {
  await acquireFileLock(job.lock);
  process.stdout.write('locked\n');
  setInterval(() => undefined, 60_000);
} else if (job.mode === 'contend') {
  // Rounds: wait for go-<r> (a start time), try the lock once at that instant, report, and the
  // winner holds it until release-<r> appears.
  for (let round = 0; round < job.rounds; round++) {
    const go = `${job.dir}/go-${round}`;
    while (!existsSync(go)) await sleep(2);
    const at = Number(readFileSync(go, 'utf8'));
    while (Date.now() < at) { /* spin: every contender starts at the same instant */ }
    let outcome;
    let lock;
    try {
      lock = await acquireFileLock(job.lock, {timeoutMs: 0});
      outcome = 'won';
    } catch (error) {
      outcome = error.name === 'LockHeldError' ? 'held' : `error ${error.message}`;
    }
    // Renamed into place: the test never reads a half-written result.
    writeFileSync(`${job.dir}/.result-${round}-${job.id}`, outcome);
    renameSync(`${job.dir}/.result-${round}-${job.id}`, `${job.dir}/result-${round}-${job.id}`);
    if (lock) {
      while (!existsSync(`${job.dir}/release-${round}`)) await sleep(2);
      lock.release();
    }
  }
}
