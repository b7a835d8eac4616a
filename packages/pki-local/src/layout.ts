import {isAbsolute, join} from 'node:path';
import {homedir} from 'node:os';

/**
 * Where a requester's credentials live:
 *
 *   $XDG_DATA_HOME/bcl/pkictl/                       0700
 *     credentials/<request-id>/                      0700, one per certificate request
 *       key.pem         0600  PKCS#8 private key ("PRIVATE KEY", or "ENCRYPTED PRIVATE KEY")
 *       public.pem      0644  the SPKI public key (to match a certificate without the passphrase)
 *       csr.pem         0644  the CSR that was sent to the store
 *       credential.json 0644  metadata (CredentialMeta)
 *       cert.pem        0644  the issued certificate (after `pkictl fetch`)
 *       chain.pem       0644  the issuing CA chain, issuer first, root last
 *     credentials/.partial-<random>/                 0700, a credential being written (CredentialStage):
 *                                                    renamed to <request-id> once whole; readers skip it
 */
export const LAYOUT_VERSION = 1;

export const FILES = {
  key: 'key.pem',
  publicKey: 'public.pem',
  csr: 'csr.pem',
  meta: 'credential.json',
  cert: 'cert.pem',
  chain: 'chain.pem',
} as const;

export type Env = Record<string, string | undefined>;

/** $XDG_DATA_HOME/bcl/pkictl (XDG rules: a relative XDG_DATA_HOME is ignored). */
export function pkictlDataDir(env: Env = process.env): string {
  const home = env.HOME && isAbsolute(env.HOME) ? env.HOME : homedir();
  const data = env.XDG_DATA_HOME && isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : join(home, '.local', 'share');
  return join(data, 'bcl', 'pkictl');
}

/** The directory holding one credential directory per request. */
export function credentialsDir(env: Env = process.env): string {
  return join(pkictlDataDir(env), 'credentials');
}

export interface CredentialPaths {
  dir: string;
  keyPath: string;
  publicKeyPath: string;
  csrPath: string;
  metaPath: string;
  certPath: string;
  chainPath: string;
}

export function credentialPaths(root: string, id: string): CredentialPaths {
  if (!isRequestId(id)) throw new Error(`not a request id: ${JSON.stringify(id)}`);
  const dir = join(root, id);
  return {
    dir,
    keyPath: join(dir, FILES.key),
    publicKeyPath: join(dir, FILES.publicKey),
    csrPath: join(dir, FILES.csr),
    metaPath: join(dir, FILES.meta),
    certPath: join(dir, FILES.cert),
    chainPath: join(dir, FILES.chain),
  };
}

/** Request ids are lower-case letters, digits and dashes (they name directories). */
export function isRequestId(id: string): boolean {
  return /^[a-z0-9][a-z0-9-]{3,63}$/.test(id);
}

/**
 * A serial number as `openssl x509 -serial` prints it: upper-case hex, no colons, whole bytes.
 * Accepts either case, colons, spaces and a 0x prefix. Returns undefined when it is not hex.
 */
export function normalizeSerial(text: string): string | undefined {
  let s = text.trim().replace(/^0x/i, '').replace(/[:\s]/g, '').toUpperCase();
  if (!/^[0-9A-F]+$/.test(s)) return undefined;
  if (s.length % 2 === 1) s = `0${s}`;
  return s;
}
