import {specInvalid} from '@bcl/core';
import {z} from 'zod';
import {KEY_TYPES} from '../crypto/keys.js';

const KEY_USAGES = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement'] as const;
const EXTENDED_KEY_USAGES = ['clientAuth', 'serverAuth', 'codeSigning', 'emailProtection'] as const;
export const SAN_TYPES = ['email', 'dns', 'ip', 'uri'] as const;

const profileSchema = z.strictObject({
  description: z.string().optional(),
  keyUsage: z.array(z.enum(KEY_USAGES)).min(1, {error: 'list at least one key usage'}),
  extendedKeyUsage: z.array(z.enum(EXTENDED_KEY_USAGES)).min(1, {error: 'list at least one extended key usage'}),
  maxLifetimeDays: z.number().int().positive().max(3650),
  /** The SAN types a request of this profile may carry (email: the requester's own address). */
  sans: z.array(z.enum(SAN_TYPES)).default(['email']),
  /** DNS names must end with one of these (server profiles); empty: any. */
  allowedDnsSuffixes: z.array(z.string().min(1)).default([]),
});

/** ca/policy.yaml: what the CA issues. Changed only with `pkictl ca policy --set` (it is signed). */
export const policySchema = z.strictObject({
  version: z.literal(1, {error: 'expected version: 1'}),
  /** Requester emails must be in one of these domains; empty: any. */
  allowedEmailDomains: z.array(z.string().min(1)).default([]),
  /** Who may approve, reject and revoke (their pkictl.email); empty: whoever holds the CA key. */
  approvers: z.array(z.email()).default([]),
  keyTypes: z.array(z.enum(KEY_TYPES)).min(1).default([...KEY_TYPES]),
  crlValidityDays: z.number().int().positive().max(365).default(7),
  profiles: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/, {error: 'profile names are lower-case words'}), profileSchema).refine((p) => Object.keys(p).length > 0, {
    error: 'define at least one profile',
  }),
});

export type Policy = z.output<typeof policySchema>;
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

/** Parses and validates policy.yaml; every problem names the file, the line and the key. */
export async function parsePolicy(text: string, file: string): Promise<Policy> {
  const {checkYaml, SpecError} = await import('@bcl/spec-loader');
  const result = checkYaml(policySchema, text, file);
  if (result.ok) return result.value;
  const syntax = result.source === undefined;
  throw specInvalid('pkictl.policy_invalid', new SpecError(file, result.problems, syntax ? 'syntax' : 'invalid'), {
    hint: syntax ? 'Fix the file with `pkictl ca policy --set <file>`.' : 'Fix the policy and apply it with `pkictl ca policy --set <file> --ca-key <key>`.',
  });
}
