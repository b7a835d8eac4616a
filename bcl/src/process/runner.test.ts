import {describe, expect, it} from 'vitest';
import {BclError} from '../errors.js';
import {Redactor} from './redactor.js';
import {ProcessFailed, ProcessRunner} from './runner.js';

describe('ProcessRunner', () => {
  it('streams output lines as they arrive and returns the whole output', async () => {
    const lines: string[] = [];
    const runner = new ProcessRunner(new Redactor());
    const res = await runner.run('sh', ['-c', 'echo one; sleep 0.1; echo two >&2; echo three'], {onLine: (l, s) => lines.push(`${s}:${l}`)});
    expect(lines).toEqual(['stdout:one', 'stderr:two', 'stdout:three']);
    expect(res.stdout).toBe('one\nthree');
    expect(res.exitCode).toBe(0);
  });

  it('passes secrets by environment and redacts them from everything it returns', async () => {
    const redactor = new Redactor();
    const runner = new ProcessRunner(redactor);
    const seen: string[] = [];
    const res = await runner.run('sh', ['-c', 'echo "pw=$PW"; echo "pw=$PW" >&2; exit 2'], {
      env: {PW: 's3cr3t-value'},
      secrets: ['s3cr3t-value'],
      reject: false,
      onLine: (l) => seen.push(l),
    });
    expect(res.stdout).toBe('pw=***');
    expect(res.stderr).toBe('pw=***');
    expect(seen).toEqual(['pw=***', 'pw=***']);
    await expect(runner.run('echo', ['s3cr3t-value'])).rejects.toMatchObject({code: 'process.secret_in_args'});
  });

  it('throws ProcessFailed (exit 7) with the tail of stderr on a non-zero exit', async () => {
    const runner = new ProcessRunner(new Redactor());
    const error = await runner.run('sh', ['-c', 'echo bad thing >&2; exit 4']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProcessFailed);
    expect((error as ProcessFailed).exitCode).toBe(7);
    expect((error as ProcessFailed).result.exitCode).toBe(4);
    expect((error as Error).message).toContain('bad thing');
  });

  it('names a program that is not installed (exit 6)', async () => {
    const error = (await new ProcessRunner(new Redactor()).run('no-such-program-xyz', []).catch((e: unknown) => e)) as BclError;
    expect(error.code).toBe('process.not_found');
    expect(error.exitCode).toBe(6);
    expect(error.message).toContain('no-such-program-xyz');
  });

  it('times out (exit 5) and is cancelled by the signal (exit 130)', async () => {
    const runner = new ProcessRunner(new Redactor());
    const timedOut = (await runner.run('sleep', ['10'], {timeoutMs: 200}).catch((e: unknown) => e)) as BclError;
    expect(timedOut.code).toBe('process.timeout');
    expect(timedOut.exitCode).toBe(5);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const started = Date.now();
    const cancelled = (await runner.run('sleep', ['10'], {signal: controller.signal}).catch((e: unknown) => e)) as BclError;
    expect(cancelled.exitCode).toBe(130);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('Redactor', () => {
  it('replaces every registered secret, longest first, and its URL-encoded form', () => {
    const r = new Redactor();
    r.add('abc'); // too short to be a secret worth redacting
    r.add('p@ss word');
    r.add('p@ss word and more');
    expect(r.redact('x p@ss word and more y p@ss word z')).toBe('x *** y *** z');
    expect(r.redact('url=p%40ss%20word')).toBe('url=***');
    expect(r.redactValue({a: ['p@ss word'], b: 1})).toEqual({a: ['***'], b: 1});
    expect(r.redact('abc')).toBe('abc');
  });
});
