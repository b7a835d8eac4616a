import {readFileSync} from 'node:fs';
import {createSecureContext, type SecureContextOptions, type TlsOptions} from 'node:tls';
import type {LoadedCrl} from './crl.js';
import type {CrlNumberStore} from './crl-numbers.js';
import {CrlRollbackError, TlsMaterialError} from './errors.js';

export interface TlsFiles {
  /** The server's certificate chain (PEM) and key. */
  cert: string;
  key: string;
  /** The CA certificate(s) client certificates must chain to (PEM bundle). */
  clientCa: string;
  /** CRL files (PEM, possibly several blocks, or DER); none: revocation is not checked. */
  crl: string[];
}

export interface TlsMaterial {
  /** For https.createServer / tls.createServer / Fastify's `https`: client certificates requested, never rejected in the handshake. */
  serverOptions: TlsOptions;
  /** For server.setSecureContext on reload. */
  contextOptions: SecureContextOptions;
  crls: LoadedCrl[];
}

export interface LoadOptions {
  /** Highest CRL numbers seen per issuer; a lower one is refused (CrlRollbackError). */
  crlNumbers: CrlNumberStore;
  /** Record the loaded CRL numbers (default true; false for a read-only check). */
  record?: boolean;
}

/**
 * Reads and checks the server's TLS material: the certificate and key, the client CA bundle and
 * the CRLs, each CRL verified against the client CAs and refused when its number is lower
 * than one already seen from its issuer. OpenSSL then checks chain, client-auth purpose,
 * validity and revocation during the handshake; with a CRL configured, a missing or expired
 * CRL fails every client (fail closed). The handshake itself does not reject: the HTTP layer
 * answers 401 with the reason (checkPeer), and can still serve public endpoints.
 */
export async function loadTlsMaterial(files: TlsFiles, options: LoadOptions): Promise<TlsMaterial> {
  const read = (path: string, what: string) => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new TlsMaterialError(`cannot read the ${what} ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`, path);
    }
  };
  const ca = read(files.clientCa, 'client CA bundle');
  const contextOptions: SecureContextOptions = {cert: read(files.cert, 'TLS certificate'), key: read(files.key, 'TLS key'), ca, minVersion: 'TLSv1.2'};
  const crls: LoadedCrl[] = [];
  if (files.crl.length > 0) {
    // X.509 parsing is loaded only by servers that check CRLs.
    const {caCertificates, crlBlocks, readCrl} = await import('./crl.js');
    const cas = caCertificates(ca, files.clientCa);
    for (const file of files.crl) {
      for (const pem of crlBlocks(read(file, 'CRL'))) crls.push(await readCrl(pem, file, cas));
    }
    // Two CRLs of one issuer: OpenSSL would use either, and the older one could un-revoke.
    const byIssuer = new Map<string, LoadedCrl>();
    for (const crl of crls) {
      const other = byIssuer.get(crl.issuerKey);
      if (other) throw new TlsMaterialError(`${crl.file}: two CRLs of ${crl.issuer} are configured (numbers ${other.number} in ${other.file} and ${crl.number} in ${crl.file}); keep only the newest`, crl.file);
      byIssuer.set(crl.issuerKey, crl);
    }
    for (const crl of crls) {
      const seen = await options.crlNumbers.highest(crl.issuerKey);
      if (seen !== undefined && crl.number < seen) throw new CrlRollbackError(crl.file, crl.issuer, seen, crl.number);
    }
    contextOptions.crl = crls.map((c) => c.pem);
  }
  try {
    // Fails here, not at the first handshake, on a bad PEM or a key that does not match.
    createSecureContext(contextOptions);
  } catch (error) {
    throw new TlsMaterialError(`TLS material is not usable (${[files.cert, files.key, files.clientCa, ...files.crl].join(', ')}): ${(error as Error).message}`, files.crl[0] ?? files.cert);
  }
  if (options.record !== false) for (const crl of crls) await options.crlNumbers.record(crl.issuerKey, crl.number);
  return {contextOptions, serverOptions: {...contextOptions, requestCert: true, rejectUnauthorized: false}, crls};
}
