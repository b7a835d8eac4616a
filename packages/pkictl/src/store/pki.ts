/**
 * The PKI as the store holds it: CA certificates, the signed policy and inventory, requests,
 * certificates and the CRL. Every read is verified (signatures, schemas) and a failure names
 * the file, so a corrupt or tampered store is refused before anything is written.
 */
import {type KeyObject, X509Certificate} from 'node:crypto';
import {invalidInput} from '@bcl/core';
import {normalizeSerial} from '@bcl/pki-local';
import {signDetached, verifyDetached} from '../crypto/keys.js';
import type {GitStore, StoreWrite} from './git.js';
import {parsePolicy, type Policy} from '@bcl/pki-ca/policy';
import {type Inventory, PATHS, parseJsonFile, recordSchemas, type RequestRecord, toJsonFile} from './records.js';
import {compareAsLocale} from '@bcl/core/text';

/** A CA certificate, read with Node's X509Certificate (cheap: read paths never load @peculiar/x509). */
export interface CaCertificate {
  pem: string;
  cert: X509Certificate;
}

function loadCertificate(pem: string, file: string): CaCertificate {
  try {
    return {pem, cert: new X509Certificate(pem)};
  } catch (error) {
    throw invalidInput('pkictl.store_corrupt', `${file} is not a PEM certificate: ${(error as Error).message}`, {details: {file}});
  }
}

export interface CaChain {
  root: CaCertificate;
  intermediate?: CaCertificate;
  /** The CA that signs leaves, CRLs, the policy and the inventory. */
  issuer: CaCertificate;
  issuerPublicKey: KeyObject;
  /** Issuer first, root last. */
  chainPem: string;
}

export function requireInitialized(store: GitStore): void {
  if (store.empty || !store.exists(PATHS.root)) {
    throw invalidInput('pkictl.store_uninitialized', `the store ${store.url} has no CA yet (no ${PATHS.root})`, {
      hint: 'A CA admin creates it with `pkictl ca init --store <repo> --name <CA name> --ca-key <file>`.',
    });
  }
}

export async function loadCa(store: GitStore): Promise<CaChain> {
  requireInitialized(store);
  const root = loadCertificate(store.read(PATHS.root)!, PATHS.root);
  if (!root.cert.verify(root.cert.publicKey)) {
    throw invalidInput('pkictl.store_corrupt', `${PATHS.root}: the root certificate's self-signature does not verify`, {details: {file: PATHS.root}});
  }
  const intermediateText = store.read(PATHS.intermediate);
  let intermediate: CaCertificate | undefined;
  if (intermediateText !== undefined) {
    intermediate = loadCertificate(intermediateText, PATHS.intermediate);
    if (!intermediate.cert.checkIssued(root.cert) || !intermediate.cert.verify(root.cert.publicKey)) {
      throw invalidInput('pkictl.store_corrupt', `${PATHS.intermediate} is not signed by the root in ${PATHS.root}`, {details: {file: PATHS.intermediate}});
    }
  }
  const issuer = intermediate ?? root;
  return {
    root,
    ...(intermediate ? {intermediate} : {}),
    issuer,
    issuerPublicKey: issuer.cert.publicKey,
    chainPem: [intermediate?.pem, root.pem].filter(Boolean).map((p) => p!.trim()).join('\n') + '\n',
  };
}

function verifySigned(store: GitStore, file: string, sigFile: string, ca: CaChain): string {
  const text = store.read(file);
  if (text === undefined) throw invalidInput('pkictl.store_corrupt', `${file} is missing from the store`, {details: {file}});
  const sig = store.read(sigFile);
  if (sig === undefined || !verifyDetached(text, sig, ca.issuerPublicKey)) {
    throw invalidInput('pkictl.store_tampered', `${file} was changed without the CA's signature (${sigFile} does not match)`, {
      hint: `Restore ${file} from the store's git history (git log -p -- ${file}); the CA admin changes it only through pkictl.`,
      details: {file},
    });
  }
  return text;
}

/** ca/policy.yaml, validated, then checked against its CA signature. */
export async function loadPolicy(store: GitStore, ca: CaChain): Promise<Policy> {
  const text = store.read(PATHS.policy);
  if (text === undefined) throw invalidInput('pkictl.store_corrupt', `${PATHS.policy} is missing from the store`, {details: {file: PATHS.policy}});
  const policy = await parsePolicy(text, PATHS.policy);
  verifySigned(store, PATHS.policy, PATHS.policySig, ca);
  return policy;
}

/** inventory.json, checked against its CA signature, then validated. */
export function loadInventory(store: GitStore, ca: CaChain): Inventory {
  const text = verifySigned(store, PATHS.inventory, PATHS.inventorySig, ca);
  const inventory = parseJsonFile(recordSchemas().inventorySchema, text, PATHS.inventory);
  for (const entry of inventory.certificates) {
    if (!store.exists(PATHS.cert(entry.serial))) {
      throw invalidInput('pkictl.store_corrupt', `${PATHS.inventory} lists ${entry.serial} but ${PATHS.cert(entry.serial)} is missing`, {details: {file: PATHS.inventory}});
    }
  }
  return inventory;
}

export function signedWrites(file: string, sigFile: string, content: string, caKey: KeyObject): StoreWrite[] {
  return [
    {path: file, content},
    {path: sigFile, content: `${signDetached(content, caKey)}\n`},
  ];
}

export function inventoryWrites(inventory: Inventory, caKey: KeyObject): StoreWrite[] {
  const sorted = {...inventory, certificates: [...inventory.certificates].sort((a, b) => compareAsLocale(a.issuedAt, b.issuedAt) || compareAsLocale(a.serial, b.serial))};
  return signedWrites(PATHS.inventory, PATHS.inventorySig, toJsonFile(sorted), caKey);
}

export function loadRequest(store: GitStore, id: string): RequestRecord {
  const file = PATHS.request(id);
  const record = parseJsonFile(recordSchemas().requestSchema, store.read(file), file);
  if (record.id !== id) throw invalidInput('pkictl.store_corrupt', `${file}: id is ${record.id}, expected ${id}`, {details: {file}});
  return record;
}

/** Every request in the store (unreadable ones are reported by the commands that act on them). */
export function requestIds(store: GitStore): string[] {
  return store.list(PATHS.requests);
}

/** Finds a request by id or unique prefix (at least 4 characters), like git does with commits. */
export function resolveRequestId(store: GitStore, given: string): string {
  const ids = requestIds(store);
  const want = given.trim().toLowerCase();
  if (ids.includes(want)) return want;
  const matches = want.length >= 4 ? ids.filter((id) => id.startsWith(want)) : [];
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    throw invalidInput('pkictl.request_ambiguous', `request id "${given}" matches ${matches.length} requests: ${matches.slice(0, 5).join(', ')}`, {hint: 'Give more characters of the id.'});
  }
  throw invalidInput('pkictl.request_not_found', `no request "${given}" in the store`, {hint: 'List requests with `pkictl requests --status all`.', details: {id: given}});
}

/** A serial from the command line, normalized as openssl prints it; exit 3 when it is not hex. */
export function parseSerialArg(text: string, flag = 'serial'): string {
  const serial = normalizeSerial(text);
  if (!serial) throw invalidInput('pkictl.serial_invalid', `${flag}: "${text}" is not a hex serial number`, {hint: 'Give the serial as `openssl x509 -serial` prints it, e.g. 4F3A...'});
  return serial;
}

