import {createPrivateKey, type JsonWebKey, type KeyObject, randomBytes} from 'node:crypto';
import {isEcdsaType, isKeyType, type KeyType, readKeyFields, sshPublicKey} from './keys.js';
import {b64u, SshFormatError, SshReader, SshWriter} from './wire.js';

/**
 * OpenSSH's own private key file format ("openssh-key-v1", PROTOCOL.key), unencrypted: what
 * `ssh-keygen -N ''` writes and what ssh, ssh-add and sshd read. Encrypted files (bcrypt KDF)
 * are refused with a message; keep a CA key encrypted as PKCS#8 PEM instead.
 */

const MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');
const BEGIN = '-----BEGIN OPENSSH PRIVATE KEY-----';
const END = '-----END OPENSSH PRIVATE KEY-----';

export function isOpenSshPrivateKey(text: string): boolean {
  return text.includes(BEGIN);
}

/** Writes a private key (Ed25519, ECDSA or RSA) as an unencrypted OpenSSH private key file. */
export function encodeOpenSshPrivateKey(key: KeyObject, comment = ''): string {
  if (key.type !== 'private') throw new SshFormatError('expected a private key');
  const {type, blob} = sshPublicKey(key);
  const jwk = key.export({format: 'jwk'});
  const fields = new SshReader(blob, 'public key');
  fields.text('key type');
  const priv = new SshWriter();
  const check = randomBytes(4).readUInt32BE(0);
  priv.u32(check).u32(check).string(type);
  if (type === 'ssh-ed25519') {
    const pk = b64u.decode(jwk.x!);
    priv.string(pk).string(Buffer.concat([b64u.decode(jwk.d!), pk]));
  } else if (isEcdsaType(type)) {
    priv.raw(fields.rest()).mpint(b64u.decode(jwk.d!));
  } else {
    priv.mpint(b64u.decode(jwk.n!)).mpint(b64u.decode(jwk.e!)).mpint(b64u.decode(jwk.d!)).mpint(b64u.decode(jwk.qi!)).mpint(b64u.decode(jwk.p!)).mpint(b64u.decode(jwk.q!));
  }
  priv.string(comment);
  let section = priv.toBuffer();
  const pad = (8 - (section.length % 8)) % 8;
  section = Buffer.concat([section, Buffer.from(Array.from({length: pad}, (_, i) => i + 1))]);
  const file = new SshWriter().raw(MAGIC).string('none').string('none').string('').u32(1).string(blob).string(section).toBuffer();
  const b64 = file.toString('base64').replace(/.{1,70}/g, '$&\n');
  return `${BEGIN}\n${b64}${END}\n`;
}

/** Reads an unencrypted OpenSSH private key file into a node:crypto key (and its comment). */
export function decodeOpenSshPrivateKey(text: string): {key: KeyObject; type: KeyType; comment: string} {
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start === -1 || end < start) throw new SshFormatError('not an OpenSSH private key (no BEGIN/END OPENSSH PRIVATE KEY lines)');
  const data = Buffer.from(text.slice(start + BEGIN.length, end).replace(/\s+/g, ''), 'base64');
  if (!data.subarray(0, MAGIC.length).equals(MAGIC)) throw new SshFormatError('not an openssh-key-v1 private key');
  const r = new SshReader(data.subarray(MAGIC.length), 'private key file');
  const cipher = r.text('cipher');
  const kdf = r.text('kdf');
  r.string('kdf options');
  if (cipher !== 'none' || kdf !== 'none') {
    throw new SshFormatError('the OpenSSH private key is encrypted; use a PKCS#8 PEM key with a passphrase instead (openssl pkcs8 -topk8), or remove the passphrase');
  }
  const count = r.u32('key count');
  if (count !== 1) throw new SshFormatError(`expected one key in the file, found ${count}`);
  const publicBlob = r.string('public key');
  const section = new SshReader(r.string('private keys'), 'private key');
  r.end();
  if (section.u32('check') !== section.u32('check')) throw new SshFormatError('the private key check bytes do not match (corrupt file)');
  const type = section.text('key type');
  if (!isKeyType(type)) throw new SshFormatError(`unsupported private key type "${type.slice(0, 40)}"`);
  let jwk: JsonWebKey;
  if (type === 'ssh-ed25519') {
    const pk = section.string('public');
    const sk = section.string('secret');
    if (pk.length !== 32 || sk.length !== 64) throw new SshFormatError('malformed Ed25519 private key');
    jwk = {kty: 'OKP', crv: 'Ed25519', x: b64u.encode(pk), d: b64u.encode(sk.subarray(0, 32))};
  } else if (isEcdsaType(type)) {
    const {jwk: pub} = readKeyFields(section, type);
    const d = section.mpint('private scalar');
    const width = b64u.decode(pub.x!).length;
    jwk = {...pub, d: b64u.encode(Buffer.concat([Buffer.alloc(Math.max(0, width - d.length)), d]))};
  } else {
    const n = section.mpint('n');
    const e = section.mpint('e');
    const d = section.mpint('d');
    const qi = section.mpint('iqmp');
    const p = section.mpint('p');
    const q = section.mpint('q');
    const big = (b: Buffer) => BigInt(`0x${b.toString('hex') || '0'}`);
    const toBuf = (v: bigint) => {
      const hex = v.toString(16);
      return Buffer.from(hex.length % 2 === 1 ? `0${hex}` : hex, 'hex');
    };
    const dp = big(d) % (big(p) - 1n);
    const dq = big(d) % (big(q) - 1n);
    jwk = {kty: 'RSA', n: b64u.encode(n), e: b64u.encode(e), d: b64u.encode(d), p: b64u.encode(p), q: b64u.encode(q), dp: b64u.encode(toBuf(dp)), dq: b64u.encode(toBuf(dq)), qi: b64u.encode(qi)};
  }
  const comment = section.text('comment');
  let key: KeyObject;
  try {
    key = createPrivateKey({key: jwk, format: 'jwk'});
  } catch (error) {
    throw new SshFormatError(`the ${type} private key is invalid: ${(error as Error).message}`);
  }
  if (!sshPublicKey(key).blob.equals(publicBlob)) throw new SshFormatError('the private key does not match the public key stored in the file');
  return {key, type, comment};
}
