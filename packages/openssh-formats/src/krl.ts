import {SshFormatError, SshReader, SshWriter} from './wire.js';

/**
 * OpenSSH Key Revocation Lists (PROTOCOL.krl), the file sshd reads with `RevokedKeys` and
 * `ssh-keygen -Q` checks. Only what a certificate authority needs: certificate sections that
 * revoke by serial number and by key id. No signature section (OpenSSH >= 9.4 refuses KRLs that
 * carry one; the KRL travels over TLS from the authority).
 */

const KRL_MAGIC = 0x5353484b524c0a00n;
const KRL_FORMAT_VERSION = 1;
const KRL_SECTION_CERTIFICATES = 1;
const KRL_SECTION_CERT_SERIAL_LIST = 0x20;
const KRL_SECTION_CERT_SERIAL_RANGE = 0x21;
const KRL_SECTION_CERT_SERIAL_BITMAP = 0x22;
const KRL_SECTION_CERT_KEY_ID = 0x23;

export interface KrlCertificateSection {
  /** The CA's public key (wire encoding); null applies the section to every CA (for key ids). */
  caKey: Buffer | null;
  /** Revoked serials; 0 is not a valid serial and is refused. */
  serials: readonly bigint[];
  /** Revoked key ids (exact match). */
  keyIds: readonly string[];
}

export interface Krl {
  /** Increases every time the list changes. */
  version: bigint;
  generatedAt: Date;
  comment: string;
  certificates: KrlCertificateSection[];
}

/** Encodes a KRL. Serials are sorted and adjacent runs become ranges, as ssh-keygen does. */
export function encodeKrl(krl: Krl): Buffer {
  const w = new SshWriter()
    .u64(KRL_MAGIC)
    .u32(KRL_FORMAT_VERSION)
    .u64(krl.version)
    .u64(BigInt(Math.floor(krl.generatedAt.getTime() / 1000)))
    .u64(0n)
    .string('')
    .string(krl.comment);
  for (const section of krl.certificates) {
    if (section.serials.length === 0 && section.keyIds.length === 0) continue;
    const s = new SshWriter().string(section.caKey ?? Buffer.alloc(0)).string('');
    const serials = [...new Set(section.serials)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (serials.some((n) => n <= 0n || n > 0xffffffffffffffffn)) throw new SshFormatError('KRL serials must be between 1 and 2^64-1');
    const singles: bigint[] = [];
    for (let i = 0; i < serials.length; ) {
      let j = i;
      while (j + 1 < serials.length && serials[j + 1] === serials[j]! + 1n) j++;
      if (j - i >= 2) s.u8(KRL_SECTION_CERT_SERIAL_RANGE).string(new SshWriter().u64(serials[i]!).u64(serials[j]!).toBuffer());
      else for (let k = i; k <= j; k++) singles.push(serials[k]!);
      i = j + 1;
    }
    if (singles.length > 0) {
      const list = new SshWriter();
      for (const n of singles) list.u64(n);
      s.u8(KRL_SECTION_CERT_SERIAL_LIST).string(list.toBuffer());
    }
    const keyIds = [...new Set(section.keyIds)].sort();
    if (keyIds.length > 0) {
      const ids = new SshWriter();
      for (const id of keyIds) ids.string(id);
      s.u8(KRL_SECTION_CERT_KEY_ID).string(ids.toBuffer());
    }
    w.u8(KRL_SECTION_CERTIFICATES).string(s.toBuffer());
  }
  return w.toBuffer();
}

/** Decodes the parts of a KRL this package writes (certificate sections); other sections are refused. */
export function decodeKrl(data: Buffer): Krl {
  const r = new SshReader(data, 'KRL');
  if (r.u64('magic') !== KRL_MAGIC) throw new SshFormatError('not an OpenSSH KRL (bad magic)');
  const format = r.u32('format version');
  if (format !== KRL_FORMAT_VERSION) throw new SshFormatError(`unsupported KRL format version ${format}`);
  const version = r.u64('version');
  const generatedAt = new Date(Number(r.u64('generated date')) * 1000);
  r.u64('flags');
  r.string('reserved');
  const comment = r.text('comment');
  const certificates: KrlCertificateSection[] = [];
  while (r.remaining > 0) {
    const type = r.u8('section type');
    const body = new SshReader(r.string('section'), 'KRL section');
    if (type !== KRL_SECTION_CERTIFICATES) throw new SshFormatError(`KRL section type ${type} is not supported here`);
    const caKey = Buffer.from(body.string('CA key'));
    body.string('reserved');
    const serials: bigint[] = [];
    const keyIds: string[] = [];
    while (body.remaining > 0) {
      const sub = body.u8('subsection type');
      const sr = new SshReader(body.string('subsection'), 'KRL certificate subsection');
      if (sub === KRL_SECTION_CERT_SERIAL_LIST) while (sr.remaining > 0) serials.push(sr.u64('serial'));
      else if (sub === KRL_SECTION_CERT_SERIAL_RANGE) {
        const lo = sr.u64('min');
        const hi = sr.u64('max');
        for (let n = lo; n <= hi; n++) serials.push(n);
      } else if (sub === KRL_SECTION_CERT_SERIAL_BITMAP) {
        const offset = sr.u64('offset');
        const bitmap = sr.mpint('bitmap');
        for (let byte = 0; byte < bitmap.length; byte++) {
          for (let bit = 0; bit < 8; bit++) {
            if ((bitmap[bitmap.length - 1 - byte]! >> bit) & 1) serials.push(offset + BigInt(byte * 8 + bit));
          }
        }
      } else if (sub === KRL_SECTION_CERT_KEY_ID) while (sr.remaining > 0) keyIds.push(sr.text('key id'));
      else throw new SshFormatError(`KRL certificate subsection type ${sub} is not supported here`);
    }
    certificates.push({caKey: caKey.length === 0 ? null : caKey, serials, keyIds});
  }
  return {version, generatedAt, comment, certificates};
}
