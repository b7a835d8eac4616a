/**
 * The PKI server's HTTP API shapes (zod; no Fastify here), shared by its routes, the OpenAPI
 * document and its clients (pkictl, the PKI Toolbox). Field names are the ones pkictl prints.
 */
import {z} from 'zod';

export const API_PROTOCOL = {min: 1, current: 1} as const;

export const serialSchema = z.string().regex(/^[0-9A-Fa-f:]{2,64}$/, {error: 'expected a serial in hex, as openssl prints it'});

export const certificateStatusSchema = z.enum(['valid', 'revoked', 'expired']);

export const certificateSummarySchema = z
  .object({
    serial: z.string().describe('Upper-case hex, as `openssl x509 -serial` prints it'),
    email: z.string(),
    name: z.string(),
    profile: z.string(),
    status: certificateStatusSchema,
    notBefore: z.string(),
    notAfter: z.string(),
    issuedAt: z.string(),
    requestId: z.string().nullable(),
    deviceLabel: z.string().nullable().describe('What the person called the device the key is on'),
    approvedBy: z.string().describe('"automatic" for a standard profile, else the admin who approved it'),
    revokedAt: z.string().nullable(),
    reason: z.string().nullable().describe('RFC 5280 revocation reason'),
    renews: z.string().nullable(),
    supersededBy: z.string().nullable(),
  })
  .meta({id: 'CertificateSummary'});
export type CertificateSummary = z.output<typeof certificateSummarySchema>;

export const certificateSchema = certificateSummarySchema
  .extend({
    pem: z.string().describe('The certificate (PEM)'),
    chainPem: z.string().describe('The issuing CA chain (PEM): issuer first, root last'),
    sha256Fingerprint: z.string(),
  })
  .meta({id: 'Certificate'});
export type CertificateView = z.output<typeof certificateSchema>;

export const requestViewSchema = z
  .object({
    id: z.string(),
    status: z.enum(['pending', 'issued', 'rejected']),
    email: z.string(),
    name: z.string(),
    profile: z.string(),
    keyType: z.string(),
    requestedAt: z.string(),
    lifetimeDays: z.number().int().nullable(),
    sans: z.array(z.string()).describe('Names asked for beyond the requester\'s email, e.g. "dns:build.example.com"'),
    deviceLabel: z.string().nullable(),
    renews: z.string().nullable(),
    serial: z.string().nullable(),
    decidedBy: z.string().nullable(),
    decidedAt: z.string().nullable(),
    reason: z.string().nullable(),
  })
  .meta({id: 'CertificateRequest'});
export type RequestView = z.output<typeof requestViewSchema>;

/** What POST /v1/requests and renewals answer: the certificate at once (201), or the request waiting for an admin (202). */
export const requestOutcomeSchema = z.object({request: requestViewSchema, certificate: certificateSchema.nullable()}).meta({id: 'RequestOutcome'});
export type RequestOutcome = z.output<typeof requestOutcomeSchema>;

const pem = (label: string) => z.string().max(16_384).includes(`-----BEGIN ${label}-----`, {error: `expected a PEM ${label.toLowerCase()}`});

export const newRequestSchema = z.strictObject({
  csr: pem('CERTIFICATE REQUEST').describe('PKCS#10, made where the key is (only its public key is used; its signature is checked)'),
  profile: z.string().regex(/^[a-z][a-z0-9-]*$/).default('client'),
  lifetimeDays: z.number().int().positive().max(3650).optional().describe('Capped by the profile'),
  dns: z.array(z.string().min(1).max(253)).max(20).default([]).describe('DNS names (profiles that allow them; they wait for an admin)'),
  ip: z.array(z.string().min(2).max(45)).max(20).default([]),
  deviceLabel: z.string().trim().min(1).max(64).optional(),
});

export const renewSchema = z.strictObject({
  csr: pem('CERTIFICATE REQUEST'),
  /** signRenewal(old key, {renews: serial, csrPem: csr, request: {profile, lifetimeDays?, deviceLabel?}}) (base64). */
  signature: z.string().min(16).max(2048).describe('The renewal signed with the key of the certificate renewed (@bcl/pki-ca signRenewal)'),
  lifetimeDays: z.number().int().positive().max(3650).optional(),
  deviceLabel: z.string().trim().min(1).max(64).optional(),
});

export const CRL_REASON_NAMES = ['unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold', 'privilegeWithdrawn', 'aACompromise'] as const;
/** Reasons a certificate's owner may give (the others are an admin's). */
export const OWNER_REASONS = ['unspecified', 'keyCompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation'] as const;

export const revokeSchema = z.strictObject({reason: z.enum(CRL_REASON_NAMES).default('unspecified')});
export const rejectSchema = z.strictObject({reason: z.string().trim().min(1).max(500)});

export const userSchema = z.object({email: z.string(), name: z.string().nullable(), iss: z.string(), sub: z.string(), admin: z.boolean(), groups: z.array(z.string())}).meta({id: 'User'});

export const sessionCreatedSchema = z
  .object({token: z.string().describe('Bearer token for Authorization (a secret: keep it 0600, never print it)'), expiresAt: z.string(), user: userSchema})
  .meta({id: 'SessionCreated'});
export type SessionCreated = z.output<typeof sessionCreatedSchema>;

export const sessionSchema = z
  .object({
    user: userSchema,
    kind: z.enum(['cli', 'web']),
    expiresAt: z.string(),
    csrfToken: z.string().nullable().describe('Browser sessions: send it as X-CSRF-Token on every POST, PUT and DELETE'),
  })
  .meta({id: 'Session'});

export const crlStatusSchema = z.object({number: z.string(), thisUpdate: z.string(), nextUpdate: z.string(), revoked: z.number().int()}).meta({id: 'CrlStatus'});
export type CrlStatus = z.output<typeof crlStatusSchema>;

export const revokedSchema = z.object({certificate: certificateSummarySchema, crl: crlStatusSchema}).meta({id: 'Revoked'});

export const profileInfoSchema = z.object({name: z.string(), description: z.string().nullable(), approval: z.enum(['automatic', 'admin']), maxLifetimeDays: z.number().int(), groups: z.array(z.string())});

export const infoSchema = z
  .object({
    name: z.literal('pki-server'),
    version: z.string(),
    ca: z.object({subject: z.string(), fingerprint: z.string().describe("The root's SHA-256 fingerprint (pkictl.caFingerprint)"), chainUrl: z.string()}),
    oidc: z.object({
      issuer: z.string(),
      clientId: z.string().describe("pkictl's public client (authorization code with PKCE, device flow)"),
      clientSecret: z.string().nullable().describe('Google "Desktop app" clients carry a secret that is not secret'),
      scopes: z.array(z.string()),
      browserSignIn: z.boolean().describe('Whether GET /v1/auth/login works (a web client is configured)'),
    }),
    revocation: z.object({crlUrl: z.string(), ocspUrl: z.string(), caCertUrl: z.string()}),
    profiles: z.array(profileInfoSchema),
  })
  .meta({id: 'Info'});
export type ServerInfo = z.output<typeof infoSchema>;

export const vpnServersSchema = z
  .object({servers: z.array(z.object({name: z.string(), location: z.string().nullable(), host: z.string(), port: z.number().int(), proto: z.enum(['udp', 'tcp']), profile: z.string()}))})
  .meta({id: 'VpnServers'});

export const importSchema = z.strictObject({
  /** The store's policy text and its CA signature (ca/policy.yaml.sig). */
  policy: z.strictObject({yaml: z.string().min(1).max(256 * 1024), signature: z.string().min(16).max(2048)}),
  /** The store's last CRL number: the server's next CRL is numbered above it. */
  crlNumber: z.number().int().nonnegative(),
  certificates: z
    .array(
      z.strictObject({
        pem: pem('CERTIFICATE'),
        requestId: z.string().max(64).nullable(),
        email: z.email(),
        name: z.string().max(256),
        profile: z.string().max(64),
        keyType: z.string().max(32),
        issuedAt: z.iso.datetime(),
        approvedBy: z.string().max(256),
        status: z.enum(['valid', 'revoked']),
        revokedAt: z.iso.datetime().nullable(),
        reason: z.enum(CRL_REASON_NAMES).nullable(),
        renews: z.string().max(64).nullable(),
        supersededBy: z.string().max(64).nullable(),
      }),
    )
    .max(100_000),
});
export type ImportBody = z.input<typeof importSchema>;

export const importResultSchema = z
  .object({imported: z.number().int(), unchanged: z.number().int(), valid: z.number().int(), revoked: z.number().int(), policyVersion: z.number().int(), crl: crlStatusSchema})
  .meta({id: 'ImportResult'});
export type ImportResult = z.output<typeof importResultSchema>;

export const adminStatusSchema = z
  .object({
    crl: crlStatusSchema.nullable(),
    ocsp: z.object({responderSerial: z.string(), notAfter: z.string()}).nullable(),
    policy: z.object({version: z.number().int(), sha256: z.string(), setAt: z.string(), setBy: z.string(), source: z.string()}),
    counts: z.object({valid: z.number().int(), revoked: z.number().int(), expired: z.number().int(), pending: z.number().int()}),
  })
  .meta({id: 'AdminStatus'});

export const auditEntriesSchema = z.object({entries: z.array(z.record(z.string(), z.unknown())), next: z.number().int().nullable()}).meta({id: 'AuditEntries'});

/**
 * The request fields a renewal's signature covers, besides the renewed serial and the CSR
 * (pkictl signs exactly these; the server verifies exactly these).
 */
export function renewalFields(p: {profile: string; lifetimeDays?: number | undefined; deviceLabel?: string | undefined}): {[key: string]: string | number} {
  return {server: 'pki-server', profile: p.profile, ...(p.lifetimeDays ? {lifetimeDays: p.lifetimeDays} : {}), ...(p.deviceLabel ? {deviceLabel: p.deviceLabel} : {})};
}
