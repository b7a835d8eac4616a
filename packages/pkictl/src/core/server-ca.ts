/** The PKI server's CA chain, trusted only once its root matches the pin (pkictl.caFingerprint), as with a Git store. */
import {X509Certificate} from 'node:crypto';
import {invalidInput} from '@bcl/core';
import type {PkictlSettings} from '../config.js';
import type {PkiServerClient} from '../server/client.js';
import {requireTrustedRoot} from './ca-pin.js';
import {splitPems} from './certs.js';
import type {PkiIo} from './io.js';

export interface ServerCa {
  /** Issuer first, root last (PEM). */
  chainPem: string;
  issuerPem: string;
  rootPem: string;
  issuer: X509Certificate;
}

export async function loadServerCa(io: PkiIo, settings: PkictlSettings, client: PkiServerClient): Promise<ServerCa> {
  const pems = splitPems(await client.text('/ca.pem'));
  if (pems.length === 0) throw invalidInput('pkictl.server_ca_invalid', `${client.url}/ca.pem holds no PEM certificate`, {});
  const certs = pems.map((p) => new X509Certificate(p));
  for (let i = 0; i + 1 < certs.length; i++) {
    if (!certs[i]!.verify(certs[i + 1]!.publicKey)) throw invalidInput('pkictl.server_ca_invalid', `${client.url}/ca.pem: ${certs[i]!.subject} is not signed by the next certificate`, {});
  }
  await requireTrustedRoot(io, settings, pems.at(-1)!, `the PKI server ${client.url}`);
  return {chainPem: `${pems.join('\n')}\n`, issuerPem: `${pems[0]!}\n`, rootPem: `${pems.at(-1)!}\n`, issuer: certs[0]!};
}
