import {formatDuration} from './duration.js';
import {ServiceError} from './errors.js';
import type {SecretsKey} from './secrets.js';
import type {AuditEvent, AuthzStore, TotpEnrolment} from './store/types.js';

/**
 * The TOTP second factor (RFC 6238: HMAC-SHA-1, 6 digits, 30 s steps, one step of tolerance
 * either side), with otplib doing the arithmetic. A code is accepted once: its time step must be
 * later than the last one accepted, which the store decides for every replica at once. Wrong
 * codes are audited and counted; past `maxFailures` within `failureWindowSeconds` every code is
 * refused until the window has passed, right or wrong.
 */
export interface TotpSettings {
  issuer: string;
  maxFailures: number;
  failureWindowSeconds: number;
}

/** The secret is shown once, at enrolment; the store keeps it sealed. */
export type {TotpEnrolmentShown} from './api.js';
import type {TotpEnrolmentShown} from './api.js';

const PERIOD = 30;
const purpose = (email: string) => `totp:${email}`;

export class TotpFactor {
  constructor(
    private readonly store: AuthzStore,
    private readonly secrets: SecretsKey | undefined,
    private readonly settings: TotpSettings,
    private readonly now: () => Date,
  ) {}

  /**
   * A new secret for `email`, pending until confirmed with a code. Replacing an active enrolment
   * needs a current code of it: a stolen PKI certificate alone cannot move the second factor.
   */
  async enrol(email: string, who: Record<string, unknown>, currentCode: string | undefined): Promise<TotpEnrolmentShown> {
    const secrets = this.requireSecrets();
    const existing = await this.store.totpEnrolment(email);
    if (existing?.state === 'active') {
      if (currentCode === undefined) {
        throw new ServiceError(409, 'totp_enrolled', `${email} is already enrolled for TOTP: give a current code of the enrolled app to replace its secret`);
      }
      await this.verify(existing, currentCode, who, {activate: false});
    }
    const {generateSecret, generateURI} = await import('otplib');
    const secret = generateSecret();
    const at = this.now();
    const enrolment: TotpEnrolment = {email, sealedSecret: secrets.seal(secret, purpose(email)), state: 'pending', createdAt: at.toISOString(), confirmedAt: null, lastStep: 0};
    await this.store.saveTotpEnrolment(enrolment, {time: at.toISOString(), event: 'totp.enrolled', ...who, replaced: existing?.state ?? null});
    return {
      account: email,
      issuer: this.settings.issuer,
      secret,
      otpauthUri: generateURI({issuer: this.settings.issuer, label: email, secret, algorithm: 'sha1', digits: 6, period: PERIOD}),
      algorithm: 'SHA1',
      digits: 6,
      period: PERIOD,
      state: 'pending',
    };
  }

  /** Confirms a pending enrolment with a code from the app: from then on it is required where a grant says so. */
  async confirm(email: string, code: string, who: Record<string, unknown>): Promise<{state: 'active'; confirmedAt: string}> {
    const existing = await this.store.totpEnrolment(email);
    if (!existing) throw new ServiceError(409, 'totp_not_enrolled', `${email} has no TOTP enrolment to confirm: run csshctl mfa enroll first`);
    if (existing.state === 'active') throw new ServiceError(409, 'totp_already_confirmed', `the TOTP enrolment of ${email} is already confirmed`);
    await this.verify(existing, code, who, {activate: true});
    return {state: 'active', confirmedAt: this.now().toISOString()};
  }

  /** Checks the code a certificate request carries, for a grant that requires TOTP. */
  async require(email: string, code: string | undefined, who: Record<string, unknown>, grants: number[]): Promise<void> {
    const enrolment = await this.store.totpEnrolment(email);
    if (!enrolment || enrolment.state !== 'active') {
      throw new ServiceError(403, 'totp_not_enrolled', `this certificate needs a TOTP code (grant ${grants.join(', ')} requires mfa: totp), and ${email} has no confirmed TOTP enrolment: run csshctl mfa enroll`);
    }
    if (code === undefined) {
      throw new ServiceError(401, 'totp_required', `this certificate needs a TOTP code (grant ${grants.join(', ')} requires mfa: totp): give the code your authenticator app shows`);
    }
    await this.verify(enrolment, code, who, {activate: false});
  }

  private async verify(enrolment: TotpEnrolment, code: string, who: Record<string, unknown>, options: {activate: boolean}): Promise<void> {
    const secrets = this.requireSecrets();
    const at = this.now();
    const windowStart = new Date(at.getTime() - this.settings.failureWindowSeconds * 1000);
    const failures = await this.store.totpFailuresSince(enrolment.email, windowStart);
    if (failures >= this.settings.maxFailures) {
      throw new ServiceError(429, 'totp_rate_limited', `too many wrong TOTP codes for ${enrolment.email} (${failures} in the last ${formatDuration(this.settings.failureWindowSeconds)}): try again later`);
    }
    const fail = async (reason: string, status: number, errorCode: string, message: string) => {
      await this.store.addTotpFailure(enrolment.email, at, {time: at.toISOString(), event: 'totp.failed', ...who, reason, failuresInWindow: failures + 1});
      throw new ServiceError(status, errorCode, message);
    };
    if (!/^\d{6}$/.test(code)) return fail('malformed', 401, 'totp_invalid', 'the TOTP code is wrong: expected the 6 digits your authenticator app shows');
    const {verify} = await import('otplib');
    const secret = secrets.open(enrolment.sealedSecret, purpose(enrolment.email));
    const result = await verify({secret, token: code, algorithm: 'sha1', digits: 6, period: PERIOD, epoch: Math.floor(at.getTime() / 1000), epochTolerance: PERIOD});
    if (!result.valid || !('timeStep' in result)) return fail('wrong', 401, 'totp_invalid', 'the TOTP code is wrong');
    const step = result.timeStep as number;
    const accepted = await this.store.useTotpStep(enrolment.email, step, {activate: options.activate, at}, {
      time: at.toISOString(),
      event: options.activate ? 'totp.confirmed' : 'totp.accepted',
      ...who,
      step,
    } satisfies AuditEvent);
    if (!accepted) return fail('replayed', 401, 'totp_replayed', 'this TOTP code was already used: wait for the next one your app shows');
  }

  private requireSecrets(): SecretsKey {
    if (!this.secrets) throw new ServiceError(503, 'mfa_unavailable', 'this cssh-authz has no secretsKey configured, so it cannot keep TOTP secrets; ask its administrators');
    return this.secrets;
  }
}
