import {type KeyObject, sign, verify} from 'node:crypto';
import {ecdsaHash, isEcdsaType, type KeyType, parsePublicKeyBlob, sshPublicKey} from './keys.js';
import {SshFormatError, SshReader, SshWriter} from './wire.js';

/**
 * The signature algorithm used with a CA key. RSA keys sign with rsa-sha2-512: never ssh-rsa
 * (SHA-1), which OpenSSH no longer accepts for certificates (CASignatureAlgorithms).
 */
export function signatureAlgorithm(type: KeyType): string {
  return type === 'ssh-rsa' ? 'rsa-sha2-512' : type;
}

/** Signs `data` with a private key, returning the SSH signature blob (string alg, string sig). */
export function sshSign(privateKey: KeyObject, data: Buffer): Buffer {
  const {type} = sshPublicKey(privateKey);
  const algorithm = signatureAlgorithm(type);
  const w = new SshWriter().string(algorithm);
  if (type === 'ssh-ed25519') return w.string(sign(null, data, privateKey)).toBuffer();
  if (type === 'ssh-rsa') return w.string(sign('sha512', data, privateKey)).toBuffer();
  if (isEcdsaType(type)) {
    const raw = sign(ecdsaHash(type), data, {key: privateKey, dsaEncoding: 'ieee-p1363'});
    const half = raw.length / 2;
    const inner = new SshWriter().mpint(raw.subarray(0, half)).mpint(raw.subarray(half)).toBuffer();
    return w.string(inner).toBuffer();
  }
  throw new SshFormatError(`cannot sign with a ${type} key`);
}

/** Verifies an SSH signature blob made by the key whose wire encoding is `keyBlob`. */
export function sshVerify(keyBlob: Buffer, data: Buffer, signatureBlob: Buffer): boolean {
  const key = parsePublicKeyBlob(keyBlob);
  const r = new SshReader(signatureBlob, 'signature');
  const algorithm = r.text('signature algorithm');
  const sig = r.string('signature');
  r.end();
  if (key.type === 'ssh-ed25519') return algorithm === 'ssh-ed25519' && verify(null, data, key.key, sig);
  if (key.type === 'ssh-rsa') {
    const hash = {'rsa-sha2-512': 'sha512', 'rsa-sha2-256': 'sha256'}[algorithm];
    return hash !== undefined && verify(hash, data, key.key, sig);
  }
  if (isEcdsaType(key.type)) {
    if (algorithm !== key.type) return false;
    const sr = new SshReader(sig, 'ECDSA signature');
    const rr = sr.mpint('r');
    const ss = sr.mpint('s');
    sr.end();
    const width = {'ecdsa-sha2-nistp256': 32, 'ecdsa-sha2-nistp384': 48, 'ecdsa-sha2-nistp521': 66}[key.type];
    if (rr.length > width || ss.length > width) return false;
    const raw = Buffer.concat([Buffer.alloc(width - rr.length), rr, Buffer.alloc(width - ss.length), ss]);
    return verify(ecdsaHash(key.type), data, {key: key.key, dsaEncoding: 'ieee-p1363'}, raw);
  }
  return false;
}
