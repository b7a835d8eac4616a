import {createHash} from 'node:crypto';
import {encodeKrl, fingerprint, parsePublicKey, signCertificate, SshFormatError, type SshPublicKey} from '@bcl/openssh-formats';
import * as z from 'zod';
import type {SshCa} from './ca.js';
import {formatDuration, parseDuration} from './duration.js';
import {ServiceError} from './errors.js';
import {type CaKeys, caKeysAt, openSealedCa} from './keyring.js';
import {type AccessRules, MAX_TTL_SECONDS, principal} from './rules.js';
import type {SecretsKey} from './secrets.js';
import {isStoreUnavailable} from './store/errors.js';
import type {AuditEvent, AuthzStore, CaKeyRecord, IssuedRecord} from './store/types.js';
import {type TotpEnrolmentShown, TotpFactor, type TotpSettings} from './totp.js';
import {formatPath} from './yaml-file.js';

export {ServiceError} from './errors.js';

/** Who is calling, from their verified PKI client certificate. */
export interface Identity {
  email: string;
  subject: string;
  /** The X.509 serial, hex as openssl prints it. */
  x509Serial: string;
  issuer: string;
}

export interface CallContext {
  identity: Identity;
  /** The client's address. */
  source: string;
}

/** Minimum RSA size for user keys (OpenSSH's own minimum since 9.x is 1024; NIST says 2048). */
const MIN_RSA_BITS = 2048;
/** Clock skew allowance: certificates are valid from one minute ago. */
const BACKDATE_SECONDS = 60;

const hostname = z.string().regex(/^[A-Za-z0-9_.:[\]-]{1,253}$/, 'expected a hostname or address');

const certificateRequest = z.strictObject({
  publicKey: z.string({error: 'expected the public key in OpenSSH format ("ssh-ed25519 AAAA...")'}).max(16_384, 'the public key is too long'),
  principals: z.array(principal).max(64, 'at most 64 principals').optional(),
  /** Seconds, or a duration such as "1h". */
  ttl: z.union([z.number(), z.string()], {error: 'expected seconds or a duration such as "1h"'}).optional(),
  host: hostname.optional(),
  /** The TOTP code, when a grant requires mfa: totp. */
  totpCode: z.string().max(16).optional(),
});

const totpCodeBody = z.strictObject({code: z.string({error: 'expected the 6-digit code of your authenticator app'}).max(16)});
const enrolBody = z.strictObject({code: z.string().max(16).optional()});

const revokeRequest = z
  .strictObject({
    serial: z.string().regex(/^\d{1,20}$/, 'expected a certificate serial (decimal, as ssh-keygen -L shows it)').optional(),
    keyId: z.string().min(1).max(512).optional(),
    reason: z.string().max(500).optional(),
  })
  .refine((r) => (r.serial === undefined) !== (r.keyId === undefined), 'give exactly one of serial or keyId');

export type {IssuedCertificate} from './api.js';
import type {HostLogins, IssuedCertificate} from './api.js';

export interface ServiceDeps {
  /** The key of the configuration's `ca.key`: the CA until the first rotation. */
  ca: SshCa;
  /** Seals TOTP secrets and rotated CA keys; without it neither is available. */
  secrets?: SecretsKey | undefined;
  rules: () => AccessRules;
  store: AuthzStore;
  now: () => Date;
  defaultTtlSeconds: number;
  totp: TotpSettings;
}

/** The certificate authority's decisions, without HTTP: issue, answer principal queries, revoke. */
export class AuthzService {
  private readonly totp: TotpFactor;
  private caCache: {keyringVersion: number; opened: Map<string, SshCa>} = {keyringVersion: -1, opened: new Map()};
  private krlCache: {key: string; version: number; etag: string; data: Buffer} | undefined;

  constructor(private readonly deps: ServiceDeps) {
    this.totp = new TotpFactor(deps.store, deps.secrets, deps.totp, deps.now);
  }

  /** The CA keys in force now (the keyring is read from the store: every replica agrees). */
  async caKeys(): Promise<CaKeys> {
    const keyring = await this.deps.store.caKeyring();
    if (keyring.version !== this.caCache.keyringVersion) this.caCache = {keyringVersion: keyring.version, opened: new Map()};
    const opened = this.caCache.opened;
    const open = (record: CaKeyRecord) => {
      let ca = opened.get(record.id);
      if (!ca) opened.set(record.id, (ca = openSealedCa(record, this.deps.secrets)));
      return ca;
    };
    return caKeysAt(keyring, this.deps.ca, this.deps.now(), open);
  }

  /** Every CA key hosts must trust now, one line each (TrustedUserCAKeys). */
  async caPublicKey(): Promise<string> {
    return (await this.caKeys()).trusted.map((k) => `${k.publicLine}\n`).join('');
  }

  /**
   * The KRL: every revoked certificate not yet expired, listed under each CA key in force. Its
   * version is the revocations' version; the ETag also changes when the CA keys do.
   */
  async krl(): Promise<{version: number; etag: string; data: Buffer}> {
    const [version, keys] = await Promise.all([this.deps.store.krlVersion(), this.caKeys()]);
    const key = `${version}|${keys.stamp}`;
    if (this.krlCache?.key === key) return this.krlCache;
    const now = this.deps.now();
    const {version: at, revocations} = await this.deps.store.revocations(new Date(now.getTime() - 3600_000));
    const serials = revocations.map((r) => BigInt(r.serial));
    const data = encodeKrl({
      version: BigInt(at),
      generatedAt: now,
      comment: 'cssh-authz',
      certificates: keys.trusted.map((k) => ({caKey: k.blob, serials, keyIds: []})),
    });
    const etag = `"krl-${at}-${createHash('sha256').update(keys.stamp).digest('hex').slice(0, 12)}"`;
    this.krlCache = {key: `${at}|${keys.stamp}`, version: at, etag, data};
    return this.krlCache;
  }

  /** For /healthz. */
  async health(): Promise<{krlVersion: number; issuedValid: number; caKeys: string[]}> {
    const [krlVersion, issuedValid, keys] = await Promise.all([this.deps.store.krlVersion(), this.deps.store.countValid(this.deps.now()), this.caKeys()]);
    return {krlVersion, issuedValid, caKeys: keys.trusted.map((k) => k.id)};
  }

  /** POST /v1/certificates. Every outcome is audited before the caller hears it. */
  async issue(call: CallContext, body: unknown): Promise<IssuedCertificate> {
    const who = {email: call.identity.email, x509Serial: call.identity.x509Serial, source: call.source};
    const asked = isRecord(body) ? {principals: body.principals, host: body.host, ttl: body.ttl} : {};
    try {
      const req = parseBody(certificateRequest, body);
      const publicKey = parseUserKey(req.publicKey);
      const requestedTtl = req.ttl === undefined ? undefined : parseTtl(req.ttl);
      const decision = this.deps.rules().decide({email: call.identity.email, ...(req.principals ? {principals: req.principals} : {}), ...(req.host ? {host: req.host} : {})});
      if (!decision.ok) {
        throw new ServiceError(decision.status, decision.code, decision.message, decision.notAllowed ? {notAllowed: decision.notAllowed} : undefined);
      }
      if (decision.mfa === 'totp') await this.totp.require(call.identity.email, req.totpCode, who, decision.grants);
      const warnings: string[] = [];
      const wanted = requestedTtl ?? this.deps.defaultTtlSeconds;
      const ttl = Math.min(wanted, decision.maxTtlSeconds);
      if (ttl < wanted) warnings.push(`lifetime limited to ${formatDuration(ttl)} by the access rules (asked for ${formatDuration(wanted)})`);
      const ca = (await this.caKeys()).signing;
      return await this.deps.store.issue((serial) => {
        const now = Math.floor(this.deps.now().getTime() / 1000);
        const keyId = `${call.identity.email}/${serial}`;
        const extensions = Object.fromEntries(decision.extensions.map((e) => [e, '']));
        const {line} = signCertificate(
          {
            publicKey: publicKey.blob,
            serial,
            certType: 'user',
            keyId,
            principals: decision.principals,
            validAfter: BigInt(now - BACKDATE_SECONDS),
            validBefore: BigInt(now + ttl),
            criticalOptions: decision.criticalOptions,
            extensions,
          },
          ca.key,
          {subject: publicKey},
        );
        const record: IssuedRecord = {
          serial: serial.toString(),
          keyId,
          email: call.identity.email,
          principals: decision.principals,
          validAfter: new Date((now - BACKDATE_SECONDS) * 1000).toISOString(),
          validBefore: new Date((now + ttl) * 1000).toISOString(),
          issuedAt: new Date(now * 1000).toISOString(),
          caKey: ca.id,
          mfa: decision.mfa,
        };
        const audit = {
          time: this.deps.now().toISOString(),
          event: 'certificate.issued',
          ...who,
          serial: record.serial,
          keyId,
          principals: decision.principals,
          host: req.host ?? null,
          validAfter: record.validAfter,
          validBefore: record.validBefore,
          ttlSeconds: ttl,
          extensions: decision.extensions,
          criticalOptions: decision.criticalOptions,
          grants: decision.grants,
          mfa: decision.mfa,
          caKey: ca.id,
          publicKey: `${publicKey.type} ${fingerprint(publicKey.blob)}`,
        };
        const result: IssuedCertificate = {
          certificate: line,
          serial: record.serial,
          keyId,
          principals: decision.principals,
          validAfter: record.validAfter,
          validBefore: record.validBefore,
          ttlSeconds: ttl,
          extensions: decision.extensions,
          criticalOptions: decision.criticalOptions,
          caPublicKey: ca.publicLine,
          warnings,
        };
        return {record, audit, result};
      });
    } catch (error) {
      const refusal = asServiceError(error);
      await this.auditRefusal(refusal, {
        time: this.deps.now().toISOString(),
        event: 'certificate.refused',
        ...who,
        // What was asked, bounded: a refused request may be junk.
        principals: Array.isArray(asked.principals) ? asked.principals.slice(0, 64).map((p) => String(p).slice(0, 64)) : null,
        host: typeof asked.host === 'string' ? asked.host.slice(0, 253) : null,
        ttl: typeof asked.ttl === 'string' ? asked.ttl.slice(0, 40) : typeof asked.ttl === 'number' ? asked.ttl : null,
        status: refusal.status,
        code: refusal.code,
        reason: refusal.message,
      });
      throw refusal;
    }
  }

  /** POST /v1/mfa/totp: a new TOTP secret for the caller, shown once, pending until confirmed. */
  async enrolTotp(call: CallContext, body: unknown): Promise<TotpEnrolmentShown> {
    const who = {email: call.identity.email, x509Serial: call.identity.x509Serial, source: call.source};
    return this.audited('totp.refused', who, async () => {
      const req = parseBody(enrolBody, body ?? {});
      return this.totp.enrol(call.identity.email, who, req.code);
    });
  }

  /** POST /v1/mfa/totp/confirm {code}: the first code from the app makes the enrolment active. */
  async confirmTotp(call: CallContext, body: unknown): Promise<{state: 'active'; confirmedAt: string}> {
    const who = {email: call.identity.email, x509Serial: call.identity.x509Serial, source: call.source};
    return this.audited('totp.refused', who, async () => this.totp.confirm(call.identity.email, parseBody(totpCodeBody, body).code, who));
  }

  /** GET /v1/host/logins: the accounts cssh-daemon keeps on a host, for that host only. */
  hostLogins(hostname: string): HostLogins {
    return {hostname, logins: this.deps.rules().loginsOn(hostname)};
  }

  /**
   * Audits a refusal before it is answered. When the database is what failed, the audit cannot be
   * written either: the caller still gets the 503 (nothing was issued or changed).
   */
  private async auditRefusal(refusal: ServiceError, event: AuditEvent): Promise<void> {
    try {
      await this.deps.store.audit(event);
    } catch (error) {
      if (!(refusal.code === 'unavailable' && isStoreUnavailable(error))) throw error;
    }
  }

  private async audited<T>(event: string, who: Record<string, unknown>, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      const refusal = asServiceError(error);
      await this.auditRefusal(refusal, {time: this.deps.now().toISOString(), event, ...who, status: refusal.status, code: refusal.code, reason: refusal.message});
      throw refusal;
    }
  }

  /** GET /v1/principals?user=&host=[&keyId=&serial=]: what an AuthorizedPrincipalsCommand prints. */
  async principals(query: URLSearchParams): Promise<{principals: string[]; lines: string[]; reason: string}> {
    const user = query.get('user');
    const host = query.get('host');
    if (!user) throw new ServiceError(400, 'invalid_request', 'query parameter "user" is required (the login, %u in sshd_config)');
    if (!host) throw new ServiceError(400, 'invalid_request', 'query parameter "host" is required (this host\'s name in the access rules)');
    if (!principal.safeParse(user).success) throw new ServiceError(400, 'invalid_request', `user "${user.slice(0, 64)}" is not a valid login name`);
    if (!hostname.safeParse(host).success) throw new ServiceError(400, 'invalid_request', `host "${host.slice(0, 64)}" is not a valid hostname`);
    const keyId = query.get('keyId') ?? undefined;
    const serial = query.get('serial') ?? undefined;
    const none = (reason: string) => ({principals: [], lines: [], reason});
    if (serial !== undefined && !/^\d{1,20}$/.test(serial)) throw new ServiceError(400, 'invalid_request', 'serial must be decimal (%s in sshd_config)');
    if (serial !== undefined && (await this.deps.store.isRevoked(serial))) return none(`certificate ${serial} is revoked`);
    let email: string | undefined;
    if (keyId !== undefined) {
      const slash = keyId.lastIndexOf('/');
      email = (slash > 0 ? keyId.slice(0, slash) : keyId).toLowerCase();
      if (slash > 0 && serial !== undefined && keyId.slice(slash + 1) !== serial) return none('the key id and serial do not belong together');
    }
    const found = this.deps.rules().principalsFor({login: user, host, ...(email ? {email} : {})});
    // A grant that requires TOTP admits only certificates issued with it: the ledger says which.
    if (found.some((f) => f.mfa === 'totp')) {
      if (serial === undefined) return none(`the grant for ${user} on ${host} requires mfa: totp, and the query names no certificate serial (%s)`);
      const issued = await this.deps.store.findIssued(serial, this.deps.now());
      if (issued?.mfa !== 'totp') return none(`the grant for ${user} on ${host} requires mfa: totp, and certificate ${serial} was issued without a TOTP code`);
    }
    return {
      principals: found.map((f) => f.principal),
      // The lines an AuthorizedPrincipalsCommand prints: options (as in authorized_keys), then the principal.
      lines: found.map((f) => `${f.options.join(',')} ${f.principal}`),
      reason: found.length > 0 ? 'granted' : `no grant allows ${user} on ${host}${email ? ` for ${email}` : ''}`,
    };
  }

  /** POST /v1/revoke (admins): one certificate by serial, or by key id (an email revokes all of that person's). */
  async revoke(call: CallContext, body: unknown): Promise<{revoked: string[]; alreadyRevoked: string[]; krlVersion: number}> {
    const who = {email: call.identity.email, x509Serial: call.identity.x509Serial, source: call.source};
    try {
      if (!this.deps.rules().isAdmin(call.identity.email)) {
        throw new ServiceError(403, 'not_admin', `${call.identity.email} may not revoke certificates: only members of the admins groups (${this.deps.rules().spec.admins.join(', ') || 'none configured'}) may`);
      }
      const req = parseBody(revokeRequest, body);
      const now = this.deps.now();
      let targets: IssuedRecord[];
      if (req.serial !== undefined) {
        const found = await this.deps.store.findIssued(req.serial, now);
        if (!found) throw new ServiceError(404, 'unknown_serial', `no valid certificate with serial ${req.serial} was issued by this service`);
        targets = [found];
      } else {
        const keyId = req.keyId!;
        const slash = keyId.lastIndexOf('/');
        if (slash > 0) {
          const found = await this.deps.store.findIssued(keyId.slice(slash + 1), now);
          if (!found || found.keyId !== keyId) throw new ServiceError(404, 'unknown_key_id', `no valid certificate with key id ${keyId} was issued by this service`);
          targets = [found];
        } else targets = await this.deps.store.validIssuedFor(keyId, now);
      }
      return await this.deps.store.revoke(targets, {email: call.identity.email, reason: req.reason ?? '', at: now}, (outcome) => ({
        time: now.toISOString(),
        event: 'certificate.revoked',
        ...who,
        target: req.serial ?? req.keyId,
        serials: outcome.revoked,
        alreadyRevoked: outcome.alreadyRevoked,
        reason: req.reason ?? null,
        krlVersion: outcome.krlVersion,
      }));
    } catch (error) {
      const refusal = asServiceError(error);
      await this.auditRefusal(refusal, {time: this.deps.now().toISOString(), event: 'revoke.refused', ...who, status: refusal.status, code: refusal.code, reason: refusal.message});
      throw refusal;
    }
  }
}

function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    throw new ServiceError(400, 'invalid_request', `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`);
  }
  if (issue.code === 'invalid_type' && issue.path.length === 0) throw new ServiceError(400, 'invalid_request', 'the body must be a JSON object');
  const path = formatPath(issue.path.filter((p): p is string | number => typeof p !== 'symbol'));
  const missing = issue.code === 'invalid_type' && issue.input === undefined;
  throw new ServiceError(400, 'invalid_request', `${path ? `${path}: ` : ''}${missing ? 'required' : issue.message}`);
}

function parseUserKey(text: string): SshPublicKey {
  let key: SshPublicKey;
  try {
    key = parsePublicKey(text);
  } catch (error) {
    if (error instanceof SshFormatError) throw new ServiceError(400, 'invalid_public_key', `publicKey: ${error.message}`);
    throw error;
  }
  if (key.type === 'ssh-rsa' && key.bits < MIN_RSA_BITS) {
    throw new ServiceError(400, 'weak_public_key', `publicKey: RSA keys need at least ${MIN_RSA_BITS} bits, this one has ${key.bits}; use ssh-ed25519`);
  }
  return key;
}

function parseTtl(ttl: number | string): number {
  const seconds = typeof ttl === 'number' ? ttl : parseDuration(ttl);
  if (seconds === undefined || !Number.isInteger(seconds) || seconds < 1 || seconds > MAX_TTL_SECONDS) {
    throw new ServiceError(400, 'invalid_ttl', `ttl: expected whole seconds or a duration between 1s and ${formatDuration(MAX_TTL_SECONDS)}, got ${JSON.stringify(ttl).slice(0, 40)}`);
  }
  return seconds;
}

function asServiceError(error: unknown): ServiceError {
  if (error instanceof ServiceError) return error;
  if (isStoreUnavailable(error)) return new ServiceError(503, 'unavailable', 'the service cannot reach its database right now; try again shortly');
  return new ServiceError(500, 'internal', `internal error: ${(error as Error).message}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
