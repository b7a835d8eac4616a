/**
 * The OCSP responder (RFC 6960, with RFC 5019's profile for GET): answers good, revoked (with
 * time and reason) or unknown for each certificate asked about, echoes the request's nonce, and
 * signs with a delegated responder certificate (OCSPSigning, ocsp-nocheck) that each replica makes
 * for its own in-memory key at start and renews before it expires. Every responder certificate
 * is in the inventory like any other the CA signed. The ASN.1 is @peculiar/asn1-ocsp's.
 */
import {createHash, generateKeyPairSync, type KeyObject, sign} from 'node:crypto';
import {hostname} from 'node:os';
import type {PostgresAuditLog} from '@bcl/audit';
import {AsnConvert, OctetString} from '@peculiar/asn1-schema';
import {AlgorithmIdentifier, Certificate, CRLReason, Extension} from '@peculiar/asn1-x509';
import {
  BasicOCSPResponse,
  CertID,
  CertStatus,
  id_pkix_ocsp_basic,
  id_pkix_ocsp_nonce,
  KeyHash,
  OCSPRequest,
  OCSPResponse,
  OCSPResponseStatus,
  ResponderID,
  ResponseBytes,
  ResponseData,
  RevokedInfo,
  SingleResponse,
} from '@peculiar/asn1-ocsp';
import type {Kysely} from '@bcl/postgres';
import type {CaMaterial} from './ca.js';
import type {PkiDb} from './db/schema.js';

const SHA1 = '1.3.14.3.2.26';
const SHA256 = '2.16.840.1.101.3.4.2.1';
const ECDSA_SHA256 = '1.2.840.10045.4.3.2';
const HASHES: Record<string, string> = {[SHA1]: 'sha1', [SHA256]: 'sha256'};
const REASONS = ['unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold', 'removeFromCRL', 'privilegeWithdrawn', 'aACompromise'];

interface Responder {
  key: KeyObject;
  certDer: Buffer;
  serial: string;
  notAfter: Date;
  keyHash: Buffer;
}

export interface OcspStatus {
  responderSerial: string;
  notAfter: string;
}

const wholeSeconds = (d: Date) => new Date(Math.floor(d.getTime() / 1000) * 1000);

/** A serial from an ASN.1 INTEGER's bytes, as the inventory keeps it (upper-case hex, no sign byte). */
export function serialHex(bytes: ArrayBuffer): string {
  let hex = Buffer.from(bytes).toString('hex').toUpperCase();
  while (hex.startsWith('00') && hex.length > 2 && Number.parseInt(hex.slice(2, 4), 16) >= 0x80) hex = hex.slice(2);
  return hex;
}

export class OcspResponder {
  #responder: Responder | undefined;
  #renewing: Promise<Responder> | undefined;

  constructor(
    private readonly db: Kysely<PkiDb>,
    private readonly ca: CaMaterial,
    private readonly audit: PostgresAuditLog,
    private readonly now: () => Date,
    private readonly reserveSerial: () => Promise<string>,
    private readonly options: {responderDays: number; validityMs: number},
  ) {}

  status(): OcspStatus | null {
    return this.#responder ? {responderSerial: this.#responder.serial, notAfter: this.#responder.notAfter.toISOString()} : null;
  }

  /** The responder certificate, made (or renewed, when a third of its life is left) as needed. */
  async responder(): Promise<Responder> {
    const current = this.#responder;
    const margin = (this.options.responderDays * 86_400_000) / 3;
    if (current && current.notAfter.getTime() - this.now().getTime() > margin) return current;
    this.#renewing ??= this.makeResponder().finally(() => (this.#renewing = undefined));
    return this.#renewing;
  }

  private async makeResponder(): Promise<Responder> {
    const {buildOcspResponderCertificate} = await import('@bcl/pki-ca');
    const {privateKey, publicKey} = generateKeyPairSync('ec', {namedCurve: 'P-256'});
    const serial = await this.reserveSerial();
    const now = this.now();
    const name = `OCSP responder (${hostname()})`;
    const cert = await buildOcspResponderCertificate({issuer: {certPem: this.ca.issuerPem, key: this.ca.key}, publicKey, commonName: name, now, days: this.options.responderDays, serial});
    await this.audit.transaction(this.db, async (trx, audit) => {
      await trx
        .updateTable('certificates')
        .set({status: 'valid', pem: cert.pem, name, profile: 'ocsp-responder', key_type: 'ecdsa-p256', not_before: cert.notBefore, not_after: cert.notAfter, issued_at: now, approved_by: 'pki-server'})
        .where('issuer', '=', this.ca.issuerId)
        .where('serial', '=', serial)
        .where('status', '=', 'reserved')
        .execute();
      await audit({event: 'ocsp.responder_issued', serial, name, notAfter: cert.notAfter.toISOString()});
    });
    const certDer = Buffer.from(cert.pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
    const spkiBits = AsnConvert.parse(certDer, Certificate).tbsCertificate.subjectPublicKeyInfo.subjectPublicKey;
    this.#responder = {key: privateKey, certDer, serial, notAfter: cert.notAfter, keyHash: createHash('sha1').update(Buffer.from(spkiBits)).digest()};
    return this.#responder;
  }

  /** The DER OCSPResponse for a DER OCSPRequest; a request that does not parse is `malformedRequest`. */
  async respond(requestDer: Buffer): Promise<Buffer> {
    let request: OCSPRequest;
    try {
      request = AsnConvert.parse(requestDer, OCSPRequest);
      if (request.tbsRequest.requestList.length === 0 || request.tbsRequest.requestList.length > 20) throw new Error('no or too many requests');
    } catch {
      return Buffer.from(AsnConvert.serialize(new OCSPResponse({responseStatus: OCSPResponseStatus.malformedRequest})));
    }
    const responder = await this.responder();
    const now = wholeSeconds(this.now());
    const nextUpdate = new Date(now.getTime() + this.options.validityMs);
    const ids = request.tbsRequest.requestList.map((r) => r.reqCert);
    const ours = ids.map((id) => this.isOurs(id));
    const serials = ids.map((id, i) => (ours[i] ? serialHex(id.serialNumber) : null)).filter((s): s is string => s !== null);
    const rows = serials.length
      ? await this.db.selectFrom('certificates').select(['serial', 'status', 'revoked_at', 'reason']).where('issuer', '=', this.ca.issuerId).where('serial', 'in', serials).execute()
      : [];
    const bySerial = new Map(rows.map((r) => [r.serial, r]));
    const responses = ids.map((certID, i) => {
      const row = ours[i] ? bySerial.get(serialHex(certID.serialNumber)) : undefined;
      let certStatus: CertStatus;
      if (!row || row.status === 'reserved') certStatus = new CertStatus({unknown: null});
      else if (row.status === 'revoked') {
        const reason = REASONS.indexOf(row.reason ?? 'unspecified');
        certStatus = new CertStatus({revoked: new RevokedInfo({revocationTime: wholeSeconds(row.revoked_at!), ...(reason > 0 ? {revocationReason: new CRLReason(reason)} : {})})});
      } else certStatus = new CertStatus({good: null});
      return new SingleResponse({certID, certStatus, thisUpdate: now, nextUpdate});
    });
    const nonce = request.tbsRequest.requestExtensions?.find((e) => e.extnID === id_pkix_ocsp_nonce);
    const tbs = new ResponseData({
      responderID: new ResponderID({byKey: new KeyHash(responder.keyHash)}),
      producedAt: now,
      responses,
      ...(nonce ? {responseExtensions: [new Extension({extnID: id_pkix_ocsp_nonce, critical: false, extnValue: nonce.extnValue})]} : {}),
    });
    const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
    const basic = new BasicOCSPResponse({
      tbsResponseData: tbs,
      signatureAlgorithm: new AlgorithmIdentifier({algorithm: ECDSA_SHA256}),
      signature: new Uint8Array(sign('sha256', tbsDer, responder.key)).buffer,
      certs: [AsnConvert.parse(responder.certDer, Certificate)],
    });
    const response = new OCSPResponse({
      responseStatus: OCSPResponseStatus.successful,
      responseBytes: new ResponseBytes({responseType: id_pkix_ocsp_basic, response: new OctetString(AsnConvert.serialize(basic))}),
    });
    return Buffer.from(AsnConvert.serialize(response));
  }

  /** Whether a CertID names this CA (issuer name and key hashes, SHA-1 or SHA-256). */
  private isOurs(id: CertID): boolean {
    const algorithm = HASHES[id.hashAlgorithm.algorithm];
    if (!algorithm) return false;
    const nameHash = createHash(algorithm).update(this.ca.issuerNameDer).digest();
    const keyHash = createHash(algorithm).update(this.ca.issuerKeyBits).digest();
    return nameHash.equals(Buffer.from(id.issuerNameHash.buffer)) && keyHash.equals(Buffer.from(id.issuerKeyHash.buffer));
  }
}
