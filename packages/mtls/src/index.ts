// @bcl/mtls: client-certificate TLS for BCL's servers (no Fastify here: see @bcl/mtls/fastify).
export {loadTlsMaterial, type TlsFiles, type TlsMaterial, type LoadOptions} from './material.js';
export {watchTlsMaterial, type TlsReloader, type TlsStatus, type TlsLog, type TlsServerLike} from './reload.js';
export {checkPeer, identityOf, emailOf, type PeerCheck, type PeerIdentity, type IdentityKind, type IdentityOptions, type Refusal} from './peer.js';
export {FileCrlNumberStore, MemoryCrlNumberStore, type CrlNumberStore} from './crl-numbers.js';
export type {LoadedCrl} from './crl.js';
export {TlsMaterialError, CrlRollbackError} from './errors.js';
export {watchFiles} from './watch.js';
