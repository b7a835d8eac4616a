import {type KeyObject, randomBytes} from 'node:crypto';
import {formatPublicKey, isKeyType, type KeyType, parsePublicKeyBlob, readKeyFields, sshPublicKey, type SshPublicKey} from './keys.js';
import {sshSign, sshVerify} from './signature.js';
import {packStrings, SshFormatError, SshReader, SshWriter, unpackStrings} from './wire.js';

/**
 * OpenSSH certificates as PROTOCOL.certkeys defines them ("*-cert-v01@openssh.com"):
 *
 *   string nonce, <key fields>, uint64 serial, uint32 type, string key id,
 *   string valid principals, uint64 valid after, uint64 valid before,
 *   string critical options, string extensions, string reserved,
 *   string signature key, string signature
 */

export const SSH_CERT_TYPE_USER = 1;
export const SSH_CERT_TYPE_HOST = 2;

/** The extensions OpenSSH knows for user certificates; ssh-keygen grants the first five by default. */
export const USER_EXTENSIONS = ['permit-X11-forwarding', 'permit-agent-forwarding', 'permit-port-forwarding', 'permit-pty', 'permit-user-rc', 'no-touch-required'] as const;
export type UserExtension = (typeof USER_EXTENSIONS)[number];

/** Critical options OpenSSH knows: force-command and source-address (a comma-separated CIDR list). */
export const CRITICAL_OPTIONS = ['force-command', 'source-address', 'verify-required'] as const;

export interface CertificateFields {
  /** The wire encoding of the certified public key. */
  publicKey: Buffer;
  serial: bigint;
  certType: 'user' | 'host';
  keyId: string;
  principals: string[];
  /** Seconds since the epoch. */
  validAfter: bigint;
  validBefore: bigint;
  /** Name -> value; force-command and source-address carry text, flags carry "". */
  criticalOptions: Record<string, string>;
  /** Name -> value; the permit-* extensions carry "". */
  extensions: Record<string, string>;
}

export interface ParsedCertificate extends CertificateFields {
  /** "ssh-ed25519-cert-v01@openssh.com" and so on. */
  certificateType: string;
  keyType: KeyType;
  nonce: Buffer;
  /** The CA's public key (wire encoding). */
  signatureKey: Buffer;
  signatureAlgorithm: string;
  /** The whole certificate blob. */
  blob: Buffer;
  /** The bytes the signature covers. */
  signedData: Buffer;
  signature: Buffer;
  comment: string;
}

export function certificateType(keyType: KeyType): string {
  return `${keyType}-cert-v01@openssh.com`;
}

/** Encodes name/value pairs, sorted by name as the protocol requires; a value is wrapped in a string. */
function encodeOptions(options: Record<string, string>): Buffer {
  const w = new SshWriter();
  for (const name of Object.keys(options).sort()) {
    const value = options[name]!;
    w.string(name).string(value === '' ? Buffer.alloc(0) : new SshWriter().string(value).toBuffer());
  }
  return w.toBuffer();
}

function decodeOptions(data: Buffer, what: string): Record<string, string> {
  const r = new SshReader(data, what);
  const out: Record<string, string> = {};
  let previous = '';
  while (r.remaining > 0) {
    const name = r.text('name');
    if (name <= previous && previous !== '') throw new SshFormatError(`${what} are not in lexical order or repeat "${name}"`);
    previous = name;
    const raw = r.string('value');
    if (raw.length === 0) out[name] = '';
    else {
      const inner = new SshReader(raw, `${what} ${name}`);
      out[name] = inner.text('value');
      inner.end();
    }
  }
  return out;
}

/**
 * Builds and signs a certificate with the CA's private key; returns its blob and one-line form.
 * `subject`: the key already parsed (parsePublicKey) from `fields.publicKey`, so it is not parsed twice.
 */
export function signCertificate(fields: CertificateFields, caKey: KeyObject, options: {nonce?: Buffer; comment?: string; subject?: SshPublicKey} = {}): {blob: Buffer; line: string} {
  if (fields.validAfter >= fields.validBefore) throw new SshFormatError('validBefore must be after validAfter');
  const subject = options.subject?.blob.equals(fields.publicKey) ? options.subject : parsePublicKeyBlob(fields.publicKey);
  const keyFields = new SshReader(fields.publicKey, 'public key');
  keyFields.text('key type');
  const type = certificateType(subject.type);
  const body = new SshWriter()
    .string(type)
    .string(options.nonce ?? randomBytes(32))
    .raw(keyFields.rest())
    .u64(fields.serial)
    .u32(fields.certType === 'user' ? SSH_CERT_TYPE_USER : SSH_CERT_TYPE_HOST)
    .string(fields.keyId)
    .string(packStrings(fields.principals))
    .u64(fields.validAfter)
    .u64(fields.validBefore)
    .string(encodeOptions(fields.criticalOptions))
    .string(encodeOptions(fields.extensions))
    .string(Buffer.alloc(0))
    .string(sshPublicKey(caKey).blob)
    .toBuffer();
  const blob = new SshWriter().raw(body).string(sshSign(caKey, body)).toBuffer();
  return {blob, line: formatPublicKey(type, blob, options.comment ?? fields.keyId)};
}

/** Parses a certificate line ("...-cert-v01@openssh.com AAAA... comment") or blob. */
export function parseCertificate(input: string | Buffer): ParsedCertificate {
  let blob: Buffer;
  let comment = '';
  let declared: string | undefined;
  if (typeof input === 'string') {
    const [type = '', data = '', ...rest] = input.trim().split(/[ \t]+/);
    if (!type.endsWith('-cert-v01@openssh.com')) throw new SshFormatError(`"${type.slice(0, 40)}" is not an OpenSSH certificate type`);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(data)) throw new SshFormatError('the certificate data is not base64');
    blob = Buffer.from(data, 'base64');
    comment = rest.join(' ');
    declared = type;
  } else blob = input;
  const r = new SshReader(blob, 'certificate');
  const certType = r.text('certificate type');
  if (declared !== undefined && declared !== certType) throw new SshFormatError(`the line says ${declared} but the data is ${certType}`);
  const keyType = certType.replace(/-cert-v01@openssh\.com$/, '');
  if (keyType === certType || !isKeyType(keyType)) throw new SshFormatError(`unsupported certificate type "${certType.slice(0, 60)}"`);
  const nonce = r.string('nonce');
  const keyStart = r.position;
  readKeyFields(r, keyType);
  const keyFieldsBytes = blob.subarray(keyStart, r.position);
  const publicKey = new SshWriter().string(keyType).raw(keyFieldsBytes).toBuffer();
  const serial = r.u64('serial');
  const typeCode = r.u32('type');
  if (typeCode !== SSH_CERT_TYPE_USER && typeCode !== SSH_CERT_TYPE_HOST) throw new SshFormatError(`unknown certificate type code ${typeCode}`);
  const keyId = r.text('key id');
  const principals = unpackStrings(r.string('principals'), 'principals');
  const validAfter = r.u64('valid after');
  const validBefore = r.u64('valid before');
  const criticalOptions = decodeOptions(r.string('critical options'), 'critical options');
  const extensions = decodeOptions(r.string('extensions'), 'extensions');
  r.string('reserved');
  const signatureKey = Buffer.from(r.string('signature key'));
  const signedData = blob.subarray(0, r.position);
  const signature = Buffer.from(r.string('signature'));
  r.end();
  const sig = new SshReader(signature, 'signature');
  const signatureAlgorithm = sig.text('signature algorithm');
  return {
    certificateType: certType,
    keyType,
    nonce: Buffer.from(nonce),
    publicKey,
    serial,
    certType: typeCode === SSH_CERT_TYPE_USER ? 'user' : 'host',
    keyId,
    principals,
    validAfter,
    validBefore,
    criticalOptions,
    extensions,
    signatureKey,
    signatureAlgorithm,
    blob: Buffer.from(blob),
    signedData: Buffer.from(signedData),
    signature,
    comment,
  };
}

/** Whether the certificate's signature was made by its signature key (not whether that CA is trusted). */
export function verifyCertificateSignature(cert: ParsedCertificate): boolean {
  try {
    return sshVerify(cert.signatureKey, cert.signedData, cert.signature);
  } catch {
    return false;
  }
}

/** The value OpenSSH uses for "forever" in validBefore. */
export const FOREVER = 0xffffffffffffffffn;
