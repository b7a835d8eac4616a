/**
 * Sign-in: a verified ID token (accepted once) becomes a session of this server, a random
 * bearer token (pkictl keeps it 0600) or an HttpOnly cookie (the browser). Only the SHA-256 of a
 * token is stored. Every sign-in and every refusal is audited, one entry each.
 */
import {createHash, randomBytes, randomUUID, timingSafeEqual} from 'node:crypto';
import type {PostgresAuditLog} from '@bcl/audit';
import {type Kysely, sql} from '@bcl/postgres';
import {batchPerTurn} from './batch.js';
import type {PkiDb} from './db/schema.js';
import type {Directory} from './directory/index.js';
import {type IdTokenVerifier, LoginRefused, type VerifiedIdentity} from './oidc/verify.js';

export type SessionKind = 'cli' | 'web';

/** Who is calling: a person signed in with the identity provider. */
export interface Caller {
  sessionId: string;
  kind: SessionKind;
  iss: string;
  sub: string;
  email: string;
  name: string | null;
  admin: boolean;
  groups: string[];
  expiresAt: Date;
  /** Web sessions: the token unsafe requests must present (X-CSRF-Token); useless without the cookie. */
  csrfToken: string | null;
}

export interface NewSession {
  token: string;
  /** Web sessions: the token unsafe requests send as X-CSRF-Token. */
  csrfToken: string | null;
  caller: Caller;
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const newToken = (prefix: string) => `${prefix}${randomBytes(32).toString('base64url')}`;

/** Compares two secrets in constant time (by their digests, so lengths do not leak either). */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(Buffer.from(sha256(a), 'hex'), Buffer.from(sha256(b), 'hex'));
}

export interface AdminRule {
  emails: string[];
  groups: string[];
  /** The policy's approvers are admins too. */
  approvers: () => Promise<string[]>;
}

export class Sessions {
  /** Sessions looked up together (requests read in one turn of the event loop) take one query. */
  readonly #byToken = batchPerTurn<string, Caller | undefined>((digests) => this.#callers(digests));

  constructor(
    private readonly db: Kysely<PkiDb>,
    private readonly audit: PostgresAuditLog,
    private readonly verifier: IdTokenVerifier,
    private readonly directory: Directory,
    private readonly admins: AdminRule,
    private readonly ttlMs: Record<SessionKind, number>,
    private readonly now: () => Date,
    private readonly log: (line: Record<string, unknown>) => void = () => undefined,
  ) {}

  /**
   * Verifies an ID token and opens a session. A refused token is audited (`login.refused` with
   * its code) and thrown as LoginRefused; so is a token seen before (`token_replayed`).
   */
  async login(idToken: string, context: {kind: SessionKind; address: string; nonce?: string}): Promise<NewSession> {
    const now = this.now();
    let identity: VerifiedIdentity;
    try {
      identity = await this.verifier.verify(idToken, now, context.nonce === undefined ? {} : {nonce: context.nonce});
    } catch (error) {
      if (error instanceof LoginRefused) await this.refused(error, context);
      throw error;
    }
    const groups = await this.directory.groupsOf(identity.email).catch((error: Error) => {
      this.log({level: 'warn', msg: `directory: no groups for ${identity.email} at sign-in: ${error.message}`});
      return [] as string[];
    });
    const approvers = await this.admins.approvers().catch(() => [] as string[]);
    const admin =
      this.admins.emails.some((e) => e.toLowerCase() === identity.email) ||
      approvers.some((e) => e.toLowerCase() === identity.email) ||
      groups.some((g) => this.admins.groups.some((a) => a.toLowerCase() === g));
    const token = newToken(context.kind === 'cli' ? 'pkis_' : 'pkiw_');
    const csrfToken = context.kind === 'web' ? randomBytes(24).toString('base64url') : null;
    const id = randomUUID();
    const expiresAt = new Date(now.getTime() + this.ttlMs[context.kind]);
    const replayed = await this.audit.transaction(this.db, async (trx, audit) => {
      const used = await trx
        .insertInto('id_token_uses')
        .values({token_sha256: sha256(idToken), iss: identity.iss, sub: identity.sub, expires_at: identity.expiresAt})
        .onConflict((oc) => oc.column('token_sha256').doNothing())
        .returning('token_sha256')
        .executeTakeFirst();
      if (!used) {
        await audit({event: 'login.refused', code: 'token_replayed', kind: context.kind, address: context.address, iss: identity.iss, sub: identity.sub, email: identity.email});
        return true;
      }
      await trx
        .insertInto('users')
        .values({iss: identity.iss, sub: identity.sub, email: identity.email, hd: identity.hd, name: identity.name, last_login_at: now})
        .onConflict((oc) => oc.columns(['iss', 'sub']).doUpdateSet({email: identity.email, hd: identity.hd, name: identity.name, last_login_at: now}))
        .execute();
      await trx
        .insertInto('sessions')
        .values({
          token_sha256: sha256(token),
          id,
          iss: identity.iss,
          sub: identity.sub,
          email: identity.email,
          name: identity.name,
          kind: context.kind,
          csrf_token: csrfToken,
          groups: JSON.stringify(groups) as never,
          admin,
          created_at: now,
          expires_at: expiresAt,
          ended_at: null,
        })
        .execute();
      await audit({event: 'login', kind: context.kind, address: context.address, iss: identity.iss, sub: identity.sub, email: identity.email, admin, session: id, expiresAt: expiresAt.toISOString()});
      return false;
    });
    if (replayed) throw new LoginRefused('token_replayed', 'this ID token was already used to sign in; each token is accepted once', 401, {iss: identity.iss, sub: identity.sub, email: identity.email}, 'Sign in again.');
    return {
      token,
      csrfToken,
      caller: {sessionId: id, kind: context.kind, iss: identity.iss, sub: identity.sub, email: identity.email, name: identity.name, admin, groups, expiresAt, csrfToken},
    };
  }

  /** Audits a refusal that happened before any session existed (a bad token, a failed browser sign-in). */
  async refused(error: LoginRefused, context: {kind: SessionKind; address: string}): Promise<void> {
    await this.audit.record(this.db, {event: 'login.refused', code: error.code, kind: context.kind, address: context.address, iss: error.claims.iss ?? null, sub: error.claims.sub ?? null, email: error.claims.email ?? null, hd: error.claims.hd ?? null});
  }

  /** The caller of a session token, or undefined when it is unknown, ended or expired. */
  async caller(token: string): Promise<Caller | undefined> {
    if (!/^pki[sw]_[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
    return this.#byToken.load(sha256(token));
  }

  async #callers(digests: readonly string[]): Promise<(Caller | undefined)[]> {
    const rows = await this.db
      .selectFrom('sessions')
      .selectAll()
      .where('token_sha256', 'in', [...new Set(digests)])
      .where('ended_at', 'is', null)
      .where('expires_at', '>', this.now())
      .execute();
    const found = new Map(rows.map((row): [string, Caller] => [row.token_sha256, {sessionId: row.id, kind: row.kind, iss: row.iss, sub: row.sub, email: row.email, name: row.name, admin: row.admin, groups: row.groups, expiresAt: row.expires_at, csrfToken: row.csrf_token}]));
    return digests.map((digest) => found.get(digest));
  }

  async end(caller: Caller, address: string): Promise<void> {
    await this.audit.transaction(this.db, async (trx, audit) => {
      await trx.updateTable('sessions').set({ended_at: this.now()}).where('id', '=', caller.sessionId).where('ended_at', 'is', null).execute();
      await audit({event: 'logout', session: caller.sessionId, email: caller.email, address});
    });
  }

  /** Forgets used tokens and sessions that have expired (any replica, now and then). */
  async prune(): Promise<void> {
    const cutoff = new Date(this.now().getTime() - 86_400_000);
    await this.db.deleteFrom('id_token_uses').where('expires_at', '<', cutoff).execute();
    await this.db.deleteFrom('login_attempts').where('expires_at', '<', this.now()).execute();
    await sql`delete from sessions where expires_at < ${cutoff}`.execute(this.db);
  }
}
