/**
 * ID token verification with Google Workspace semantics, every claim checked here: the
 * signature against the issuer's JWKS (never `alg: none`), `iss` (Google's two forms), `aud` in
 * the configured client ids, `azp`, `exp`, `iat` within a bound, `hd` in the allowed domains,
 * `email_verified === true` and an email at that domain. jose only checks the signature; the
 * claims are ours, so each refusal has its own code and words a person can act on. Replay (a
 * token accepted once) is the session store's: it needs the database.
 */
import {compactVerify, decodeProtectedHeader, errors as joseErrors, type JWTVerifyGetKey} from 'jose';

/** Signature algorithms an identity provider may use (Google: RS256). `none` is never one. */
export const ID_TOKEN_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export type LoginRefusalCode =
  | 'token_malformed'
  | 'token_alg_refused'
  | 'token_key_unknown'
  | 'token_signature_invalid'
  | 'token_issuer'
  | 'token_audience'
  | 'token_azp'
  | 'token_expired'
  | 'token_too_old'
  | 'token_not_yet_valid'
  | 'token_nonce'
  | 'token_sub_missing'
  | 'token_replayed'
  | 'hd_missing'
  | 'hd_not_allowed'
  | 'email_missing'
  | 'email_unverified'
  | 'email_domain';

/** A refused sign-in: 401 for a token that is not valid, 403 for a valid one of someone this PKI does not serve. */
export class LoginRefused extends Error {
  override readonly name = 'LoginRefused';
  constructor(
    readonly code: LoginRefusalCode,
    message: string,
    readonly status: 401 | 403,
    /** What the token said, for the audit entry (never the token itself). */
    readonly claims: {iss?: string; sub?: string; email?: string; hd?: string} = {},
    readonly hint?: string,
  ) {
    super(message);
  }
}

export interface VerifiedIdentity {
  /** The configured (canonical) issuer, whichever form the token used. */
  iss: string;
  sub: string;
  email: string;
  hd: string;
  name: string | null;
  /** The token's expiry (for the replay table). */
  expiresAt: Date;
  audience: string[];
  azp: string | null;
}

export interface VerifierOptions {
  issuer: string;
  /** Other spellings of the issuer that mean the same (Google: "accounts.google.com"). */
  issuerAliases: string[];
  clientIds: string[];
  allowedDomains: string[];
  maxTokenAgeMs: number;
  clockToleranceMs: number;
  jwks: JWTVerifyGetKey;
}

const WORK_ACCOUNT = 'Sign in with your company (Google Workspace) account.';

/** Whether Google's scheme-less issuer form is accepted by default for this issuer. */
export function defaultIssuerAliases(issuer: string, acceptSchemeless: boolean | undefined): string[] {
  const url = new URL(issuer);
  const schemeless = `${url.host}${url.pathname === '/' ? '' : url.pathname}`;
  const google = url.host === 'accounts.google.com';
  return (acceptSchemeless ?? google) ? [schemeless] : [];
}

export class IdTokenVerifier {
  constructor(private readonly o: VerifierOptions) {}

  async verify(token: string, now: Date, options: {nonce?: string} = {}): Promise<VerifiedIdentity> {
    let header: {alg?: string};
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new LoginRefused('token_malformed', 'the ID token is not a signed JWT', 401);
    }
    if (!header.alg || header.alg.toLowerCase() === 'none' || !ID_TOKEN_ALGORITHMS.includes(header.alg)) {
      throw new LoginRefused('token_alg_refused', `the ID token's algorithm ${JSON.stringify(header.alg ?? null)} is not accepted (unsigned tokens never are)`, 401);
    }
    let payloadBytes: Uint8Array;
    try {
      payloadBytes = (await compactVerify(token, this.o.jwks, {algorithms: ID_TOKEN_ALGORITHMS})).payload;
    } catch (error) {
      if (error instanceof joseErrors.JWKSNoMatchingKey) throw new LoginRefused('token_key_unknown', "the ID token is signed with a key the identity provider does not publish (not in its JWKS)", 401);
      if (error instanceof joseErrors.JWSSignatureVerificationFailed) throw new LoginRefused('token_signature_invalid', "the ID token's signature does not verify with the identity provider's key", 401);
      if (error instanceof joseErrors.JOSEAlgNotAllowed) throw new LoginRefused('token_alg_refused', `the ID token's algorithm ${header.alg} is not accepted`, 401);
      // The JWKS could not be fetched: the provider is unavailable, not the token wrong.
      if (error instanceof joseErrors.JWKSTimeout || !(error instanceof joseErrors.JOSEError)) throw error;
      throw new LoginRefused('token_malformed', `the ID token cannot be verified: ${(error as Error).message}`, 401);
    }
    let claims: Record<string, unknown>;
    try {
      claims = JSON.parse(new TextDecoder().decode(payloadBytes)) as Record<string, unknown>;
      if (!claims || typeof claims !== 'object' || Array.isArray(claims)) throw new Error('not an object');
    } catch {
      throw new LoginRefused('token_malformed', "the ID token's claims are not a JSON object", 401);
    }
    const str = (k: string) => (typeof claims[k] === 'string' ? (claims[k] as string) : undefined);
    const seen = {...(str('iss') ? {iss: str('iss')!} : {}), ...(str('sub') ? {sub: str('sub')!} : {}), ...(str('email') ? {email: str('email')!} : {}), ...(str('hd') ? {hd: str('hd')!} : {})};

    const iss = str('iss');
    if (!iss || (iss !== this.o.issuer && !this.o.issuerAliases.includes(iss))) {
      throw new LoginRefused('token_issuer', `the ID token was issued by ${JSON.stringify(iss ?? null)}, not by ${this.o.issuer}`, 401, seen);
    }
    const aud = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) && claims.aud.every((a) => typeof a === 'string') ? (claims.aud as string[]) : [];
    if (aud.length === 0 || !aud.some((a) => this.o.clientIds.includes(a))) {
      throw new LoginRefused('token_audience', `the ID token is for ${aud.length ? aud.join(', ') : 'no audience'}, not for this PKI's clients`, 401, seen);
    }
    const azp = str('azp') ?? null;
    // OIDC Core 3.1.3.7: several audiences need an azp, and an azp must be one of our clients.
    if ((aud.length > 1 && azp === null) || (azp !== null && !this.o.clientIds.includes(azp))) {
      throw new LoginRefused('token_azp', `the ID token was requested by ${azp === null ? 'an unnamed party (no azp with several audiences)' : JSON.stringify(azp)}, not by one of this PKI's clients`, 401, seen);
    }
    const nowS = now.getTime() / 1000;
    const tolerance = this.o.clockToleranceMs / 1000;
    if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) throw new LoginRefused('token_malformed', 'the ID token has no expiry (exp)', 401, seen);
    if (claims.exp <= nowS - tolerance) throw new LoginRefused('token_expired', `the ID token expired at ${new Date(claims.exp * 1000).toISOString()}`, 401, seen, 'Sign in again.');
    if (typeof claims.iat !== 'number' || !Number.isFinite(claims.iat)) throw new LoginRefused('token_malformed', 'the ID token has no issue time (iat)', 401, seen);
    if (claims.iat > nowS + tolerance) throw new LoginRefused('token_not_yet_valid', `the ID token claims to be issued in the future (${new Date(claims.iat * 1000).toISOString()}); check the clocks`, 401, seen);
    if (typeof claims.nbf === 'number' && claims.nbf > nowS + tolerance) throw new LoginRefused('token_not_yet_valid', 'the ID token is not valid yet (nbf)', 401, seen);
    if (nowS - claims.iat > this.o.maxTokenAgeMs / 1000 + tolerance) {
      throw new LoginRefused('token_too_old', `the ID token was issued at ${new Date(claims.iat * 1000).toISOString()}, more than ${Math.round(this.o.maxTokenAgeMs / 1000)} s ago: sign-ins use fresh tokens`, 401, seen, 'Sign in again.');
    }
    if (options.nonce !== undefined && claims.nonce !== options.nonce) throw new LoginRefused('token_nonce', 'the ID token does not carry the nonce of this sign-in', 401, seen);
    const sub = str('sub');
    if (!sub) throw new LoginRefused('token_sub_missing', 'the ID token names no subject (sub)', 401, seen);

    const hd = str('hd');
    if (!hd) throw new LoginRefused('hd_missing', 'your account is not a company account (the identity provider says it belongs to no Workspace domain)', 403, seen, WORK_ACCOUNT);
    const domain = hd.toLowerCase();
    if (!this.o.allowedDomains.some((d) => d.toLowerCase() === domain)) {
      throw new LoginRefused('hd_not_allowed', `your account belongs to ${hd}, which is not the company's domain (${this.o.allowedDomains.join(', ')})`, 403, seen, WORK_ACCOUNT);
    }
    const email = str('email');
    if (!email) throw new LoginRefused('email_missing', 'the identity provider did not say which email address your account has', 403, seen, 'Allow the email scope when you sign in.');
    if (claims.email_verified !== true) throw new LoginRefused('email_unverified', `the email address ${email} is not verified by the identity provider`, 403, seen, 'Verify your email address with the identity provider, then sign in again.');
    if (email.slice(email.lastIndexOf('@') + 1).toLowerCase() !== domain) {
      throw new LoginRefused('email_domain', `the email address ${email} is not at your account's domain ${hd}`, 403, seen, WORK_ACCOUNT);
    }
    return {
      iss: this.o.issuer,
      sub,
      email: email.toLowerCase(),
      hd: domain,
      name: str('name') ?? null,
      expiresAt: new Date(claims.exp * 1000),
      audience: aud,
      azp,
    };
  }
}
