/**
 * Everything cssh-authz remembers, behind one interface: the ledger of issued certificates, the
 * revocations and the KRL's version, the CA keyring, TOTP enrolments and used codes, and the
 * audit trail. The state directory (`file-store.ts`) is one implementation, for a single node;
 * a database is the other, for replicas. The shape follows what a database needs:
 *
 * - every change of state is one unit with its audit event: both are stored, or neither;
 * - an issuance is one unit from reserving its serial to its audit event, and the caller gets the
 *   certificate only after it (no certificate without its ledger row);
 * - uniqueness (serials, used TOTP steps) and order (KRL versions, keyring versions) are decided
 *   by the store under one writer, not by a replica's memory.
 */

export interface IssuedRecord {
  serial: string;
  keyId: string;
  email: string;
  principals: string[];
  validAfter: string;
  validBefore: string;
  issuedAt: string;
  /** The SHA256 fingerprint of the CA key that signed it. */
  caKey?: string;
  /** The second factor checked at issuance. */
  mfa?: 'totp' | null;
}

export interface Revocation {
  serial: string;
  keyId: string;
  email: string;
  validBefore: string;
  revokedAt: string;
  by: string;
  reason: string;
}

/** One line of the audit trail (append-only). */
export interface AuditEvent {
  time: string;
  event: string;
  [field: string]: unknown;
}

/** A key of the SSH user CA, as the keyring records it. */
export interface CaKeyRecord {
  /** SHA256 fingerprint of the public key ("SHA256:..."). */
  id: string;
  /** The public key line (TrustedUserCAKeys). */
  publicKey: string;
  /** From when it signs (and is trusted). */
  activatedAt: string;
  /** Set when a newer key took over: trusted until then (the overlap), never signing again. */
  retiresAt: string | null;
  /**
   * The private key of the signing key, sealed with the service's secrets key (a rotated key);
   * null for the key of the configuration's `ca.key` file and for retiring keys.
   */
  sealedPrivateKey: string | null;
}

export interface CaKeyring {
  /** Incremented by every change; 0: never rotated (the configured key alone). */
  version: number;
  keys: CaKeyRecord[];
}

export interface TotpEnrolment {
  email: string;
  /** The base32 secret, sealed with the service's secrets key. */
  sealedSecret: string;
  /** pending: shown, not yet confirmed with a code; active: required where a grant says mfa: totp. */
  state: 'pending' | 'active';
  createdAt: string;
  confirmedAt: string | null;
  /** The last TOTP time step accepted (RFC 6238 T); a code of this step or an earlier one is a replay. */
  lastStep: number;
}

export interface RevokeOutcome {
  revoked: string[];
  alreadyRevoked: string[];
  krlVersion: number;
}

export interface AuthzStore {
  /** What this store is, for logs ("state directory /var/lib/cssh-authz"). */
  readonly description: string;

  /**
   * One issuance: reserves a serial unique among all issued certificates, lets `sign` make the
   * certificate, stores its ledger row and audit event, and only then returns. When `sign` or a
   * write fails, nothing is stored and the caller gets the error.
   */
  issue<T>(sign: (serial: bigint) => Promise<{record: IssuedRecord; audit: AuditEvent; result: T}> | {record: IssuedRecord; audit: AuditEvent; result: T}): Promise<T>;
  /** A certificate that is still valid at `at`, by serial. */
  findIssued(serial: string, at: Date): Promise<IssuedRecord | undefined>;
  /** One person's certificates still valid at `at`. */
  validIssuedFor(email: string, at: Date): Promise<IssuedRecord[]>;
  /** How many issued certificates are still valid (for /healthz). */
  countValid(at: Date): Promise<number>;

  isRevoked(serial: string): Promise<boolean>;
  /**
   * Revokes, under the single writer: certificates already revoked are skipped; when any is new
   * the KRL version goes up by exactly one. The audit event (built from the outcome) is stored
   * with the change.
   */
  revoke(targets: readonly IssuedRecord[], by: {email: string; reason: string; at: Date}, audit: (outcome: RevokeOutcome) => AuditEvent): Promise<RevokeOutcome>;
  /** The KRL version only: cheap, so a replica can tell whether its cached KRL is current. */
  krlVersion(): Promise<number>;
  /** The KRL's source: its version and the revocations of certificates valid after `after`. */
  revocations(after: Date): Promise<{version: number; revocations: Revocation[]}>;

  caKeyring(): Promise<CaKeyring>;
  /** Replaces the keyring if it is still at `expectedVersion` (compare and set); false when another writer came first. */
  replaceCaKeyring(expectedVersion: number, keys: readonly CaKeyRecord[], audit: AuditEvent): Promise<boolean>;

  totpEnrolment(email: string): Promise<TotpEnrolment | undefined>;
  /** Creates or replaces a person's enrolment. */
  saveTotpEnrolment(enrolment: TotpEnrolment, audit: AuditEvent): Promise<void>;
  /**
   * Accepts a matched TOTP step once: true when `step` is later than the enrolment's last used
   * step (it is then recorded, the failures are cleared and, with `activate`, a pending enrolment
   * becomes active); false when it is not (a replay), across every replica.
   */
  useTotpStep(email: string, step: number, options: {activate: boolean; at: Date}, audit: AuditEvent): Promise<boolean>;
  addTotpFailure(email: string, at: Date, audit: AuditEvent): Promise<void>;
  totpFailuresSince(email: string, since: Date): Promise<number>;

  /** An event that changes no state (a refusal). */
  audit(event: AuditEvent): Promise<void>;

  /**
   * Calls `listener` when the revocations or the keyring may have changed (through this store, or
   * another replica's); returns the function that stops it. A wake-up only: read the state again.
   */
  watch(listener: () => void): () => void;

  close(): Promise<void>;
}
