/** The store's files and their schemas. Every reader names the file when its content is wrong. */
import {invalidInput} from '@bcl/core';
import {builtOnFirstUse} from '@bcl/spec-loader/first-use';
import * as z from 'zod';
import {KEY_TYPES, type RenewalClaim} from '@bcl/pki-ca/keys';
import {SAN_TYPES} from '@bcl/pki-ca/policy';

export const PATHS = {
  root: 'ca/root.pem',
  intermediate: 'ca/intermediate.pem',
  chain: 'ca/chain.pem',
  policy: 'ca/policy.yaml',
  policySig: 'ca/policy.yaml.sig',
  inventory: 'inventory.json',
  inventorySig: 'inventory.json.sig',
  crl: 'crl/crl.pem',
  /** Two-tier CAs: the root's CRL (it lists revoked intermediates). */
  rootCrl: 'crl/root.pem',
  readme: 'README.md',
  requests: 'requests',
  certs: 'certs',
  request: (id: string) => `requests/${id}/request.json`,
  csr: (id: string) => `requests/${id}/csr.pem`,
  cert: (serial: string) => `certs/${serial}.pem`,
} as const;

/**
 * The store's record schemas, built on first use (builtOnFirstUse): commands that only import
 * this module's paths and types never build them.
 */
export const recordSchemas = builtOnFirstUse(() => {
  const serialSchema = z.string().regex(/^[0-9A-F]+$/, {error: 'expected an upper-case hex serial'});
  const isoDate = z.iso.datetime({error: 'expected an ISO-8601 date'});

  const requestSchema = z.strictObject({
    version: z.literal(1),
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{3,63}$/),
    email: z.email(),
    name: z.string().min(1).max(64),
    profile: z.string().min(1),
    keyType: z.enum(KEY_TYPES),
    requestedAt: isoDate,
    /** Lifetime the requester asked for; capped by the profile's maximum. */
    lifetimeDays: z.number().int().positive().optional(),
    /** Extra SANs asked for (DNS names for servers); the email SAN is implied. */
    sans: z.array(z.strictObject({type: z.enum(SAN_TYPES), value: z.string().min(1)})).default([]),
    renews: serialSchema.optional(),
    /** A renewal's proof: signed with the key of the certificate it renews (see renewalClaim). */
    renewalSignature: z.string().min(1).optional(),
    status: z.enum(['pending', 'issued', 'rejected']),
    decidedAt: isoDate.optional(),
    decidedBy: z.string().optional(),
    serial: serialSchema.optional(),
    reason: z.string().optional(),
  });

  const inventoryEntrySchema = z.strictObject({
    serial: serialSchema,
    requestId: z.string(),
    email: z.email(),
    name: z.string(),
    profile: z.string(),
    keyType: z.enum(KEY_TYPES),
    notBefore: isoDate,
    notAfter: isoDate,
    issuedAt: isoDate,
    approvedBy: z.string(),
    status: z.enum(['valid', 'revoked']),
    revokedAt: isoDate.optional(),
    reason: z.string().optional(),
    renews: serialSchema.optional(),
    supersededBy: serialSchema.optional(),
  });

  const inventorySchema = z.strictObject({
    version: z.literal(1),
    /** The number of the last CRL published. */
    crlNumber: z.number().int().nonnegative(),
    certificates: z.array(inventoryEntrySchema),
  });
  return {requestSchema, inventoryEntrySchema, inventorySchema};
});

type RecordSchemas = ReturnType<typeof recordSchemas>;
export type RequestRecord = z.output<RecordSchemas['requestSchema']>;
export type InventoryEntry = z.output<RecordSchemas['inventoryEntrySchema']>;
export type Inventory = z.output<RecordSchemas['inventorySchema']>;

/**
 * What a renewal's signature covers: the renewed serial, the CSR, and every field of the request
 * that shapes the certificate (so none can be edited in the store after signing).
 */
export function renewalClaimOf(r: RequestRecord, csrPem: string): RenewalClaim {
  return {
    renews: r.renews ?? '',
    csrPem,
    request: {id: r.id, email: r.email, name: r.name, profile: r.profile, keyType: r.keyType, requestedAt: r.requestedAt, lifetimeDays: r.lifetimeDays, sans: r.sans.map((s) => ({type: s.type, value: s.value}))},
  };
}

/** Parses a JSON file of the store against its schema; errors name the file and the key. */
export function parseJsonFile<S extends z.ZodType>(schema: S, text: string | undefined, file: string): z.output<S> {
  if (text === undefined) {
    throw invalidInput('pkictl.store_corrupt', `${file} is missing from the store`, {details: {file}, hint: 'The store is incomplete; restore the file from its git history.'});
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw invalidInput('pkictl.store_corrupt', `${file} is not valid JSON: ${(error as Error).message}`, {details: {file}, hint: 'Restore the file from the store\'s git history.'});
  }
  const result = schema.safeParse(raw, {jitless: true});
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const key = issue.path.map(String).join('.') || '(top level)';
    throw invalidInput('pkictl.store_corrupt', `${file}: ${key}: ${issue.message}`, {details: {file, key}, hint: 'Restore the file from the store\'s git history.'});
  }
  return result.data;
}

/** Stable JSON for files kept in git (sorted entries make small diffs). */
export function toJsonFile(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
