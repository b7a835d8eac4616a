// @bcl/openssh-formats: OpenSSH's key, certificate, KRL and private key formats, node:crypto only.
export {SshFormatError, SshReader, SshWriter} from './wire.js';
export {bitLength, fingerprint, formatPublicKey, isKeyType, KEY_TYPES, parsePublicKey, parsePublicKeyBlob, sshPublicKey, type KeyType, type SshPublicKey} from './keys.js';
export {signatureAlgorithm, sshSign, sshVerify} from './signature.js';
export {
  certificateType,
  CRITICAL_OPTIONS,
  FOREVER,
  parseCertificate,
  signCertificate,
  USER_EXTENSIONS,
  verifyCertificateSignature,
  type CertificateFields,
  type ParsedCertificate,
  type UserExtension,
} from './certificate.js';
export {decodeKrl, encodeKrl, type Krl, type KrlCertificateSection} from './krl.js';
export {decodeOpenSshPrivateKey, encodeOpenSshPrivateKey, isOpenSshPrivateKey} from './private-key.js';
