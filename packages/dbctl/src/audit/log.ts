import {appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync} from 'node:fs';
import {userInfo} from 'node:os';
import {dirname, join} from 'node:path';

/** One administrative operation: who did what to which target, when, and how it ended. Never a secret. */
export interface AuditEntry {
  time: string;
  /** The person or CI job: the OS user, and CI's job identity when there is one. */
  actor: string;
  /** The database user the operation connected as. */
  as: string;
  /** "user.create", "grant", "password.rotate", "provision"... */
  operation: string;
  /** The server: "connection prod-pg (db:5432)" or a spec name. */
  server: string;
  target: Record<string, unknown>;
  outcome: 'ok' | 'failed';
  error?: string;
}

export function defaultAuditFile(stateDir: string): string {
  return join(stateDir, 'dbctl', 'audit.log');
}

/**
 * An append-only JSON-lines file (one entry per line, 0600). Entries are only ever appended with
 * O_APPEND, so concurrent dbctl runs cannot overwrite each other's lines.
 */
export class AuditLog {
  /** `env` names the actor (the OS user, and CI's job identity). */
  constructor(
    readonly file: string,
    private readonly env: Record<string, string | undefined> = process.env,
  ) {}

  append(entry: Omit<AuditEntry, 'time' | 'actor'> & {time?: Date}, env: Record<string, string | undefined> = this.env): void {
    mkdirSync(dirname(this.file), {recursive: true, mode: 0o700});
    const fresh = !existsSync(this.file);
    const {time, ...rest} = entry;
    const line: AuditEntry = {time: (time ?? new Date()).toISOString(), actor: actorOf(env), ...rest};
    appendFileSync(this.file, `${JSON.stringify(line)}\n`, {mode: 0o600, flag: 'a'});
    if (fresh) chmodSync(this.file, 0o600);
  }

  read(): AuditEntry[] {
    if (!existsSync(this.file)) return [];
    return readFileSync(this.file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as AuditEntry];
        } catch {
          return [];
        }
      });
  }
}

function actorOf(env: Record<string, string | undefined>): string {
  let user = env.USER ?? env.LOGNAME;
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers): keep the environment's name
  }
  const ci = env.GITHUB_ACTOR ? `github:${env.GITHUB_ACTOR}` : env.GITLAB_USER_LOGIN ? `gitlab:${env.GITLAB_USER_LOGIN}` : env.BUILD_USER_ID ? `jenkins:${env.BUILD_USER_ID}` : undefined;
  return ci ? `${user ?? 'unknown'} (${ci})` : (user ?? 'unknown');
}
