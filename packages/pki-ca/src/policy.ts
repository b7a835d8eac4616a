/**
 * The policy: what a CA issues (ca/policy.yaml in pkictl's Git store; the PKI server reads the same
 * file). Zod and YAML only, so read paths can import it without the X.509 machinery.
 */
import {checkYaml, formatKeyPath, SpecError} from '@bcl/spec-loader';
import {builtOnFirstUse} from '@bcl/spec-loader/first-use';
import * as z from 'zod';
import {invalid} from './errors.js';
import {KEY_TYPES} from './keys.js';

export const KEY_USAGES = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement'] as const;
export type KeyUsageName = (typeof KEY_USAGES)[number];
export const EXTENDED_KEY_USAGES = ['clientAuth', 'serverAuth', 'codeSigning', 'emailProtection'] as const;
export type ExtendedKeyUsageName = (typeof EXTENDED_KEY_USAGES)[number];
export const SAN_TYPES = ['email', 'dns', 'ip', 'uri'] as const;
export type SanType = (typeof SAN_TYPES)[number];

export interface San {
  type: SanType;
  value: string;
}

/** Whether a profile issues more than the requester's own identity (names others rely on). */
function isPrivileged(p: {sans: readonly string[]; extendedKeyUsage: readonly string[]}): boolean {
  return p.sans.some((s) => s !== 'email') || p.extendedKeyUsage.some((u) => u === 'serverAuth' || u === 'codeSigning');
}

/** How the PKI server decides a request of this profile: at once, or by an admin. */
export function profileApproval(profile: Pick<Profile, 'approval' | 'sans' | 'extendedKeyUsage'>): 'automatic' | 'admin' {
  return profile.approval ?? (isPrivileged(profile) ? 'admin' : 'automatic');
}

/**
 * The policy's schemas, built on first use (builtOnFirstUse): most commands that import this
 * module (for its types and constants) never read a policy.
 */
const schemas = builtOnFirstUse(() => {
  const profileSchema = z.strictObject({
    description: z.string().optional(),
    /** Asked for; what a certificate gets also depends on its key's algorithm (see keyUsageFor). */
    keyUsage: z.array(z.enum(KEY_USAGES)).min(1, {error: 'list at least one key usage'}),
    extendedKeyUsage: z.array(z.enum(EXTENDED_KEY_USAGES)).min(1, {error: 'list at least one extended key usage'}),
    maxLifetimeDays: z.number().int().positive().max(3650),
    /** The SAN types a request of this profile may carry (email: the requester's own address). */
    sans: z.array(z.enum(SAN_TYPES)).default(['email']),
    /** DNS names must end with one of these (server profiles); empty: any. */
    allowedDnsSuffixes: z.array(z.string().min(1)).default([]),
    /**
     * The PKI server: `automatic` issues at once to a verified identity, `admin` waits for an
     * admin's approval. Default: automatic for the requester's own email only (client, vpn),
     * admin for anything wider (DNS, IP or URI names, serverAuth, codeSigning). The Git store
     * always waits for an admin.
     */
    approval: z.enum(['automatic', 'admin']).optional(),
    /** The PKI server: only members of one of these directory groups get this profile (empty: anyone allowed). */
    groups: z.array(z.email({error: 'expected a group email address'})).default([]),
  }).superRefine((p, ctx) => {
    if (p.approval === 'automatic' && isPrivileged(p)) {
      ctx.addIssue({code: 'custom', path: ['approval'], message: 'a profile that issues DNS, IP or URI names, serverAuth or codeSigning always waits for an admin: use approval: admin or leave it out'});
    }
  });

  const url = z.url({protocol: /^http$/, error: 'expected an http:// URL (relying parties fetch revocation data over plain HTTP)'});

  /** Where relying parties find revocation data; written into the certificates the CA issues. */
  const revocationSchema = z.strictObject({
    /** The issuing CA's CRL: cRLDistributionPoints of every leaf. */
    crlUrl: url.optional(),
    /** The issuing CA's certificate: authorityInfoAccess caIssuers of every leaf. */
    caCertUrl: url.optional(),
    /** An OCSP responder for the issuing CA (the PKI server fills it): authorityInfoAccess ocsp of every leaf. */
    ocspUrl: url.optional(),
    /** Two-tier CAs: the root's CRL, in the intermediate's cRLDistributionPoints. */
    rootCrlUrl: url.optional(),
    /** Two-tier CAs: the root's certificate, in the intermediate's authorityInfoAccess caIssuers. */
    rootCertUrl: url.optional(),
  });

  /** What a CA issues. Changed only by a CA admin (pkictl signs it in the Git store). */
  const policySchema = z.strictObject({
    version: z.literal(1, {error: 'expected version: 1'}),
    /** Requester emails must be in one of these domains; empty: any. */
    allowedEmailDomains: z.array(z.string().min(1)).default([]),
    /** Who may approve, reject and revoke (their pkictl.email); empty: whoever holds the CA key. */
    approvers: z.array(z.email()).default([]),
    keyTypes: z.array(z.enum(KEY_TYPES)).min(1).default([...KEY_TYPES]),
    crlValidityDays: z.number().int().positive().max(365).default(7),
    /** Two-tier CAs: how long the root's CRL is valid (it is signed with the offline root key). */
    rootCrlValidityDays: z.number().int().positive().max(3650).default(365),
    revocation: revocationSchema.default({}),
    profiles: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/, {error: 'profile names are lower-case words'}), profileSchema).refine((p) => Object.keys(p).length > 0, {
      error: 'define at least one profile',
    }),
  });
  return {revocationSchema, policySchema};
});

export type RevocationUrls = z.output<ReturnType<typeof schemas>['revocationSchema']>;

export type Policy = z.output<ReturnType<typeof schemas>['policySchema']>;
export type Profile = Policy['profiles'][string];

export function defaultPolicyYaml(emailDomains: string[]): string {
  const domains = emailDomains.length ? `[${emailDomains.join(', ')}]` : '[]';
  return `# pkictl policy: what this CA issues. It is signed by the CA: change it with
#   pkictl ca policy --set <file> --ca-key <key>
version: 1
# Requester emails must belong to one of these domains ([] = any).
allowedEmailDomains: ${domains}
# Emails (their pkictl.email) that may approve, reject and revoke ([] = whoever holds the CA key).
approvers: []
keyTypes: [ecdsa-p256, rsa-3072, ed25519]
crlValidityDays: 7
# Where relying parties fetch revocation data (plain http://), written into every certificate:
# revocation:
#   crlUrl: http://pki.example.com/crl.pem        # the issuing CA's CRL (pkictl crl --out)
#   caCertUrl: http://pki.example.com/ca.pem      # the issuing CA's certificate
#   rootCrlUrl: http://pki.example.com/root.crl   # two-tier: the root's CRL, in the intermediate
#   rootCertUrl: http://pki.example.com/root.pem  # two-tier: the root's certificate
profiles:
  client:
    description: Client authentication (VPN, package repositories, Kubernetes, SSH certificate service)
    keyUsage: [digitalSignature]
    extendedKeyUsage: [clientAuth]
    maxLifetimeDays: 90
    sans: [email]
  vpn:
    description: OpenVPN client
    keyUsage: [digitalSignature, keyAgreement]
    extendedKeyUsage: [clientAuth]
    maxLifetimeDays: 90
    sans: [email]
  server:
    description: TLS server (internal services)
    keyUsage: [digitalSignature, keyEncipherment]
    extendedKeyUsage: [serverAuth]
    maxLifetimeDays: 397
    sans: [dns, ip]
    allowedDnsSuffixes: []
`;
}

/** Parses and validates a policy; errors name the file, the line and the key (code policy_invalid). */
export function parsePolicy(text: string, file: string): Policy {
  const result = checkYaml(schemas().policySchema, text, file);
  if (result.ok) return result.value;
  const error = new SpecError(file, result.problems, result.source ? 'invalid' : 'syntax');
  const first = result.problems[0];
  throw invalid('policy_invalid', error.message, {details: {...error.toJSON(), key: first ? formatKeyPath(first.path) : ''}, cause: error});
}

/** Names a subordinate CA may sign, from the policy (RFC 5280 name constraints, permitted subtrees). */
export interface PermittedNames {
  /** DNS suffixes (a name and every name below it). */
  dns: string[];
  /** Email domains (mailboxes at exactly that host). */
  email: string[];
}

/**
 * The names an intermediate made for this policy is limited to: the allowed email domains, and
 * the DNS suffixes of every profile that issues DNS names (only when each of them lists some: a
 * profile that allows any DNS name leaves DNS unconstrained). Empty lists constrain nothing.
 */
export function permittedNames(policy: Policy): PermittedNames {
  const dnsProfiles = Object.values(policy.profiles).filter((p) => p.sans.includes('dns'));
  const dns = dnsProfiles.length > 0 && dnsProfiles.every((p) => p.allowedDnsSuffixes.length > 0) ? dnsProfiles.flatMap((p) => p.allowedDnsSuffixes.map((s) => s.replace(/^\./, '').toLowerCase())) : [];
  return {dns: [...new Set(dns)].sort(), email: [...new Set(policy.allowedEmailDomains.map((d) => d.toLowerCase()))].sort()};
}

export {checkRequest, issuedSans, type RequestFacts} from './request-check.js';
