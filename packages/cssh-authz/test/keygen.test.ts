// `cssh-authz keygen` through the real launcher: a CA private key lands in a new 0600 file or
// nowhere (issue: --force over a 0644 file kept its mode; a dangling symlink was followed).
import {chmodSync, existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {runCli} from '@bcl/testkit';
import {afterAll, describe, expect, it} from 'vitest';

const work = mkdtempSync(join(tmpdir(), 'cssh-authz-keygen-'));
afterAll(() => rmSync(work, {recursive: true, force: true}));
const mode = (file: string) => statSync(file).mode & 0o777;
const keygen = (out: string, ...extra: string[]) => runCli('cssh-authz', ['keygen', '--out', out, ...extra]);

describe('cssh-authz keygen', () => {
  it('writes the private key 0600 and the public key 0644', async () => {
    const out = join(work, 'ca');
    const res = await keygen(out);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(mode(out)).toBe(0o600);
    expect(mode(`${out}.pub`)).toBe(0o644);
    expect(res.stdout).toMatch(/^ssh-ed25519 /);
    expect(readFileSync(`${out}.pub`, 'utf8')).toBe(res.stdout);
  });

  it('--force replaces its own 0600 key with a new 0600 key', async () => {
    const out = join(work, 'replaced');
    expect((await keygen(out)).exitCode).toBe(0);
    const before = readFileSync(out, 'utf8');
    const res = await keygen(out, '--force');
    expect(res.exitCode, res.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).not.toBe(before);
    expect(mode(out)).toBe(0o600);
  });

  it('--force over a file others can read is refused (exit 3), leaving it untouched', async () => {
    const out = join(work, 'open');
    writeFileSync(out, 'OLD KEY');
    chmodSync(out, 0o644);
    const res = await keygen(out, '--force');
    expect(res.exitCode).toBe(3);
    expect(res.stderr).toContain(`Error: ${out} exists with mode 0644, readable or writable by other users; a secret is not written into it`);
    expect(res.stderr).toContain(`chmod 600 ${out}`);
    expect(readFileSync(out, 'utf8')).toBe('OLD KEY');
    expect(mode(out)).toBe(0o644);
    expect(existsSync(`${out}.pub`)).toBe(false);
  });

  it('refuses a dangling symlink at --out, creating nothing where it points', async () => {
    const out = join(work, 'dangling');
    const target = join(work, 'elsewhere', 'ca.key');
    symlinkSync(target, out);
    for (const args of [[], ['--force']]) {
      const res = await keygen(out, ...args);
      expect(res.exitCode).toBe(3);
      expect(res.stderr).toContain(`Error: ${out} is a symbolic link; a secret is never written through one`);
    }
    expect(lstatSync(out).isSymbolicLink()).toBe(true);
    expect(existsSync(target)).toBe(false);
  });
});
