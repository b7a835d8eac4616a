/**
 * The HTTP API of cssh-authz as its clients see it (types only: a CLI imports these without
 * loading server code).
 */

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
