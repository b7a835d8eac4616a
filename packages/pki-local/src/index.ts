// @bcl/pki-local: the on-disk contract for a requester's local X.509 keys and certificates.
// Node built-ins and @bcl/files only, so any tool (csshctl, a server's client) can read it without weight.
export {FILES, LAYOUT_VERSION, credentialPaths, credentialsDir, isRequestId, normalizeSerial, pkictlDataDir, type CredentialPaths, type Env} from './layout.js';
export {
  createCredentialDir,
  CredentialStage,
  type CredentialFile,
  findCredential,
  isGroupOrWorldReadable,
  listCredentials,
  loadPrivateKey,
  parseMeta,
  readMeta,
  writeMeta,
  type CredentialMeta,
  type FindOptions,
  type KeyType,
  type ListOptions,
  type LocalCredential,
} from './credentials.js';
