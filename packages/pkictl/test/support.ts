/** Shared set-up for pkictl's integration tests: real bare repositories, real launchers, real openssl. */
import {execFileSync} from 'node:child_process';
import {mkdirSync, readdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {type CliResult, type IsolatedHome, isolatedHome, runCli, tempDir} from '@bcl/testkit';

export const PASSPHRASE = 'correct horse battery staple';

export interface Person {
  home: IsolatedHome;
  email: string;
  /** Runs pkictl as this person, with --json; the store comes from their config. */
  pk(args: string[], extraEnv?: Record<string, string>): Promise<CliResult>;
  /** Their local credential directories. */
  credentials(): string[];
  credentialDir(id: string): string;
}

export interface Pki {
  dir: string;
  store: string;
  caKey: string;
  /** Two-tier CAs: the offline root key. */
  rootKey: string | null;
  /** The root's SHA-256 fingerprint, as `ca init` reported it (what requesters pin). */
  caFingerprint: string;
  passFile: string;
  admin: Person;
  /** A requester whose config pins the CA (pkictl.caFingerprint); `pinned: false` leaves it unpinned. */
  person(email: string, options?: {pinned?: boolean}): Person;
  /** Flags an admin command needs. */
  adminFlags: string[];
  /** The store's current tip (to prove nothing was written). */
  head(): string;
  /** Commits a change to the store by hand, as someone with push access but not pkictl would. */
  tamper(change: (worktree: string) => void, message?: string): void;
  remove(): void;
}

export function git(args: string[], cwd?: string): string {
  return execFileSync('git', args, {cwd, encoding: 'utf8', env: {...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com'}});
}

export function openssl(args: string[], options: {input?: string; allowFailure?: boolean} = {}): {code: number; out: string} {
  try {
    const out = execFileSync('openssl', args, {encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...(options.input ? {input: options.input} : {})});
    return {code: 0, out};
  } catch (error) {
    const e = error as {status?: number; stdout?: string; stderr?: string};
    if (!options.allowFailure) throw new Error(`openssl ${args.join(' ')} failed: ${e.stderr ?? ''}${e.stdout ?? ''}`);
    return {code: e.status ?? 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}`};
  }
}

function makePerson(store: string, email: string, extraConfig = ''): Person {
  const home = isolatedHome();
  mkdirSync(join(home.xdg.config, 'bcl'), {recursive: true});
  writeFileSync(join(home.xdg.config, 'bcl', 'config.yaml'), `pkictl:\n  store: ${store}\n  email: ${email}\n${extraConfig}`);
  const credRoot = join(home.xdg.data, 'bcl', 'pkictl', 'credentials');
  return {
    home,
    email,
    pk: (args, extraEnv = {}) => runCli('pkictl', [...args, '--json'], {env: {...home.env, ...extraEnv}, cwd: home.home}),
    credentials: () => {
      try {
        return readdirSync(credRoot).filter((n) => !n.startsWith('.'));
      } catch {
        return [];
      }
    },
    credentialDir: (id) => join(credRoot, id),
  };
}

/** A CA and its store in a temp dir: `pkictl ca init` run by the admin through the launcher. */
export async function setupPki(options: {intermediate?: boolean; domains?: string[]; keyType?: string; policy?: string} = {}): Promise<Pki> {
  const dir = tempDir('pkictl-test-');
  const store = join(dir.path, 'pki.git');
  const caKey = join(dir.path, 'ca.key');
  const passFile = join(dir.path, 'passphrase');
  writeFileSync(passFile, `${PASSPHRASE}\n`, {mode: 0o600});
  const rootKey = options.intermediate ? join(dir.path, 'root.key') : null;
  const policyFile = join(dir.path, 'initial-policy.yaml');
  if (options.policy) writeFileSync(policyFile, options.policy);
  const admin = makePerson(store, 'admin@example.com');
  const people: Person[] = [admin];
  const init = await admin.pk([
    'ca',
    'init',
    '--name',
    'Test Corp CA',
    '--ca-key',
    caKey,
    '--passphrase-file',
    passFile,
    ...(options.keyType ? ['--key-type', options.keyType] : []),
    ...(rootKey ? ['--intermediate', '--root-key', rootKey] : []),
    ...(options.policy ? ['--policy', policyFile] : (options.domains ?? ['example.com']).flatMap((d) => ['--email-domain', d])),
  ]);
  if (init.exitCode !== 0) throw new Error(`ca init failed: ${init.stdout}${init.stderr}`);
  const caFingerprint = (init.json().result as {caFingerprint: string}).caFingerprint;
  return {
    dir: dir.path,
    store,
    caKey,
    rootKey,
    caFingerprint,
    passFile,
    admin,
    adminFlags: ['--ca-key', caKey, '--passphrase-file', passFile],
    person(email, {pinned = true} = {}) {
      const p = makePerson(store, email, pinned ? `  caFingerprint: ${caFingerprint}\n` : '');
      people.push(p);
      return p;
    },
    head: () => git(['rev-parse', 'main'], store).trim(),
    tamper(change, message = 'edit by hand') {
      const wt = join(dir.path, `wt-${Date.now()}-${Math.random().toString(16).slice(2)}`);
      git(['clone', '--quiet', store, wt]);
      change(wt);
      git(['add', '--all'], wt);
      git(['commit', '--quiet', '-m', message], wt);
      git(['push', '--quiet', 'origin', 'HEAD:main'], wt);
    },
    remove() {
      for (const p of people) p.home.remove();
      dir.remove();
    },
  };
}

/** Requests, approves and fetches one certificate; returns the fetch result. */
export async function issue(pki: Pki, person: Person, requestArgs: string[] = []): Promise<{id: string; serial: string; certPath: string; chainPath: string; keyPath: string}> {
  const req = await person.pk(['request', ...requestArgs]);
  if (req.exitCode !== 0) throw new Error(`request failed: ${req.stdout}${req.stderr}`);
  const id = (req.json().result as {id: string}).id;
  const approved = await pki.admin.pk(['approve', id, ...pki.adminFlags]);
  if (approved.exitCode !== 0) throw new Error(`approve failed: ${approved.stdout}${approved.stderr}`);
  const fetched = await person.pk(['fetch', id]);
  if (fetched.exitCode !== 0) throw new Error(`fetch failed: ${fetched.stdout}${fetched.stderr}`);
  return fetched.json().result as never;
}

/** Every blob in every commit of a repository, as text. */
export function allBlobs(repo: string): string[] {
  const objects = git(['rev-list', '--all', '--objects'], repo)
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter(Boolean);
  const blobs: string[] = [];
  for (const sha of objects) {
    if (git(['cat-file', '-t', sha], repo).trim() !== 'blob') continue;
    blobs.push(git(['cat-file', 'blob', sha], repo));
  }
  return blobs;
}
