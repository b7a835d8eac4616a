/**
 * The HTTP API of cssh-authz as its clients see it: types, and the few dependency-free helpers
 * that define what the API accepts (the duration grammar). A CLI or a host agent imports this
 * entry without loading server code; `api.test.ts` keeps it free of package imports.
 */
export {DURATION_EXAMPLES, formatDuration, parseDuration} from './duration.js';

/** What POST /v1/certificates answers. */
export interface IssuedCertificate {
  certificate: string;
  serial: string;
  keyId: string;
  principals: string[];
  validAfter: string;
  validBefore: string;
  ttlSeconds: number;
  extensions: string[];
  criticalOptions: Record<string, string>;
  caPublicKey: string;
  warnings: string[];
}

/** What POST /v1/mfa/totp answers: the secret, shown once. */
export interface TotpEnrolmentShown {
  account: string;
  issuer: string;
  secret: string;
  otpauthUri: string;
  algorithm: 'SHA1';
  digits: 6;
  period: 30;
  state: 'pending';
}

/** What GET /v1/host/logins answers: the accounts a host keeps for its grants. */
export interface HostLogins {
  hostname: string;
  logins: {login: string; shell: string | null}[];
}
