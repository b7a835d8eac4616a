/**
 * The SSH wire encoding (RFC 4251 section 5): big-endian integers, length-prefixed strings and
 * mpints. Every OpenSSH format in this package is built from these.
 */

/** Malformed input: the message says what was wrong, for a 400 or an error naming the file. */
export class SshFormatError extends Error {
  override readonly name = 'SshFormatError';
}

export class SshWriter {
  private readonly parts: Buffer[] = [];

  u8(value: number): this {
    this.parts.push(Buffer.from([value & 0xff]));
    return this;
  }

  u32(value: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(value >>> 0);
    this.parts.push(b);
    return this;
  }

  u64(value: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt.asUintN(64, value));
    this.parts.push(b);
    return this;
  }

  bool(value: boolean): this {
    return this.u8(value ? 1 : 0);
  }

  /** A string: uint32 length, then the bytes (UTF-8 for text). */
  string(value: Buffer | Uint8Array | string): this {
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
    this.u32(bytes.length);
    this.parts.push(bytes);
    return this;
  }

  /** An mpint from an unsigned big-endian magnitude (RFC 4251: two's complement, minimal). */
  mpint(magnitude: Buffer | Uint8Array): this {
    let start = 0;
    while (start < magnitude.length && magnitude[start] === 0) start++;
    const trimmed = Buffer.from(magnitude.subarray(start));
    if (trimmed.length === 0) return this.u32(0);
    return this.string((trimmed[0]! & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
  }

  /** Bytes as they are, without a length. */
  raw(value: Buffer | Uint8Array): this {
    this.parts.push(Buffer.from(value));
    return this;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export class SshReader {
  private offset = 0;

  constructor(
    private readonly buffer: Buffer,
    /** What is being read, for error messages ("certificate", "public key"). */
    private readonly what = 'data',
  ) {}

  get remaining(): number {
    return this.buffer.length - this.offset;
  }

  get position(): number {
    return this.offset;
  }

  private take(n: number, field: string): Buffer {
    if (n < 0 || this.offset + n > this.buffer.length) {
      throw new SshFormatError(`${this.what} is truncated (reading ${field})`);
    }
    const out = this.buffer.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  u8(field = 'byte'): number {
    return this.take(1, field)[0]!;
  }

  u32(field = 'uint32'): number {
    return this.take(4, field).readUInt32BE(0);
  }

  u64(field = 'uint64'): bigint {
    return this.take(8, field).readBigUInt64BE(0);
  }

  bool(field = 'boolean'): boolean {
    return this.u8(field) !== 0;
  }

  string(field = 'string'): Buffer {
    const length = this.u32(`${field} length`);
    return this.take(length, field);
  }

  /** A string that must be valid UTF-8 text. */
  text(field = 'string'): string {
    const bytes = this.string(field);
    const text = bytes.toString('utf8');
    if (!Buffer.from(text, 'utf8').equals(bytes)) throw new SshFormatError(`${this.what}: ${field} is not valid UTF-8`);
    return text;
  }

  /** An mpint as an unsigned big-endian magnitude; negative values are refused. */
  mpint(field = 'mpint'): Buffer {
    const bytes = this.string(field);
    if (bytes.length > 0 && (bytes[0]! & 0x80) !== 0) throw new SshFormatError(`${this.what}: ${field} is negative`);
    let start = 0;
    while (start < bytes.length && bytes[start] === 0) start++;
    return Buffer.from(bytes.subarray(start));
  }

  rest(): Buffer {
    return this.take(this.remaining, 'rest');
  }

  /** Fails when bytes are left over: trailing garbage is a malformed encoding, not padding. */
  end(): void {
    if (this.remaining !== 0) throw new SshFormatError(`${this.what} has ${this.remaining} unexpected trailing byte(s)`);
  }
}

/** A list of strings packed into one string (certificate principals). */
export function packStrings(values: readonly string[]): Buffer {
  const w = new SshWriter();
  for (const v of values) w.string(v);
  return w.toBuffer();
}

export function unpackStrings(data: Buffer, what: string): string[] {
  const r = new SshReader(data, what);
  const out: string[] = [];
  while (r.remaining > 0) out.push(r.text('entry'));
  return out;
}

/** base64url (JWK) to an unsigned magnitude and back. */
export const b64u = {
  decode: (s: string): Buffer => Buffer.from(s, 'base64url'),
  encode: (b: Buffer | Uint8Array): string => Buffer.from(b).toString('base64url'),
};

/** A fixed-width unsigned big-endian buffer (left-padded with zeros). */
export function fixedWidth(magnitude: Buffer, width: number): Buffer {
  if (magnitude.length > width) throw new SshFormatError(`integer is longer than ${width} bytes`);
  return Buffer.concat([Buffer.alloc(width - magnitude.length), magnitude]);
}
