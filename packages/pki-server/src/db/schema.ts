/** The PKI server's tables as Kysely checks queries against them (see migrations.ts). */
import type {Generated} from '@bcl/postgres';

export type CertificateStatus = 'reserved' | 'valid' | 'revoked';
export type RequestStatus = 'pending' | 'issued' | 'rejected';

export interface PkiDb {
  /** People, keyed by the identity provider's (iss, sub): an email can be reassigned, a sub cannot. */
  users: {iss: string; sub: string; email: string; hd: string | null; name: string | null; first_login_at: Generated<Date>; last_login_at: Date};
  /** Every ID token exchanged for a session, by its SHA-256: a token is accepted once. */
  id_token_uses: {token_sha256: string; iss: string; sub: string | null; expires_at: Date; used_at: Generated<Date>};
  sessions: {
    token_sha256: string;
    id: string;
    iss: string;
    sub: string;
    email: string;
    name: string | null;
    kind: 'cli' | 'web';
    csrf_token: string | null;
    groups: string[];
    admin: boolean;
    created_at: Date;
    expires_at: Date;
    ended_at: Date | null;
  };
  /** The browser sign-in in progress: PKCE verifier and nonce, until the callback (minutes). */
  login_attempts: {state: string; code_verifier: string; nonce: string; return_to: string; expires_at: Date};
  /** Policy versions: the newest is in force; each is signed with the CA key (a database writer without it cannot change the policy). */
  policies: {version: Generated<number>; yaml: string; sha256: string; signature: string; source: string; set_by: string; set_at: Generated<Date>};
  requests: {
    id: string;
    iss: string | null;
    sub: string | null;
    email: string;
    name: string;
    profile: string;
    key_type: string;
    csr_pem: string;
    sans: {type: string; value: string}[];
    lifetime_days: number | null;
    device_label: string | null;
    renews: string | null;
    status: RequestStatus;
    created_at: Date;
    decided_at: Date | null;
    decided_by: string | null;
    reason: string | null;
    serial: string | null;
  };
  /** The inventory: every serial the CA used, reserved under UNIQUE(issuer, serial) before signing. */
  certificates: {
    issuer: string;
    serial: string;
    status: CertificateStatus;
    request_id: string | null;
    iss: string | null;
    sub: string | null;
    email: string | null;
    name: string | null;
    profile: string | null;
    key_type: string | null;
    pem: string | null;
    not_before: Date | null;
    not_after: Date | null;
    issued_at: Date | null;
    approved_by: string | null;
    revoked_at: Date | null;
    reason: string | null;
    revoked_by: string | null;
    renews: string | null;
    superseded_by: string | null;
    device_label: string | null;
    reserved_at: Date;
  };
  crls: {issuer: string; number: string; this_update: Date; next_update: Date; der: Buffer; revoked_count: number; created_at: Generated<Date>};
  /** The last CRL number per issuer (raised by a migration from a Git store, so numbers keep growing). */
  crl_numbers: {issuer: string; last_number: string};
  rate_limits: {key: string; window_start: Date; count: number};
}
