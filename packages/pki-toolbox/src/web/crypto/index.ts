/**
 * Everything that touches keys, loaded only when a person asks for a profile (a chunk of its own,
 * so the first page stays small). The key lives in this module's objects, in memory, for as long
 * as the page offers the downloads; nothing here writes it anywhere or sends it.
 */
import type {Certificate, VpnServer} from '../api.js';
import {buildCertificateRequest, exportPrivateKey, generateDeviceKey, importPrivateKey, privateKeyPem} from './keys.js';
import {keyFromProfile, profileFileName, vpnProfile} from './ovpn.js';
import {fromPem} from './pem.js';
import {buildPkcs12} from './pkcs12.js';
import {signRenewal} from './renewal.js';

export {profileFileName};

/** A new key for this device and the certificate request that carries its public key. */
export async function newDeviceRequest(email: string): Promise<{request: string; device: DeviceCredentials}> {
  const keys = await generateDeviceKey();
  return {request: await buildCertificateRequest(keys, email), device: new DeviceCredentials(keys)};
}

/** A key made here and, once issued, its certificate: the files the person downloads. */
export class DeviceCredentials {
  constructor(private readonly keys: CryptoKeyPair) {}

  async vpnProfile(server: VpnServer, certificate: Certificate): Promise<string> {
    return vpnProfile({
      server,
      email: certificate.email,
      serial: certificate.serial,
      notAfter: certificate.notAfter,
      caPem: certificate.chainPem,
      certPem: certificate.pem,
      keyPem: await privateKeyPem(this.keys),
    });
  }

  async pkcs12(certificate: Certificate, password: string, friendlyName: string): Promise<Uint8Array> {
    const certificates = [...fromPem(certificate.pem, 'CERTIFICATE'), ...fromPem(certificate.chainPem, 'CERTIFICATE')];
    return buildPkcs12({keyPkcs8: await exportPrivateKey(this.keys), certificates, password, friendlyName});
  }

  async privateKeyPem(): Promise<string> {
    return privateKeyPem(this.keys);
  }
}

/** Reads the private key from a profile the person chose; undefined when the file has none. */
export async function keyFromFile(text: string): Promise<CryptoKey | undefined> {
  const pem = keyFromProfile(text);
  if (!pem) return undefined;
  const [der] = fromPem(pem, 'PRIVATE KEY');
  if (!der) return undefined;
  try {
    return await importPrivateKey(der);
  } catch {
    return undefined;
  }
}

/** The `remote` and `proto` of a profile, to make the renewed one for the same server. */
export function serverOfProfile(text: string): {host: string; port: number; proto: 'udp' | 'tcp'} | undefined {
  const remote = /^remote\s+(\S+)\s+(\d+)/m.exec(text);
  if (!remote) return undefined;
  const proto = /^proto\s+tcp/m.test(text) ? 'tcp' : 'udp';
  return {host: remote[1]!, port: Number(remote[2]), proto};
}

/** A renewal: a new key and request, signed with the key of the certificate it renews. */
export async function renewalRequest(p: {oldKey: CryptoKey; serial: string; email: string; profile: string; deviceLabel?: string | undefined}) {
  const {request, device} = await newDeviceRequest(p.email);
  const signature = await signRenewal(p.oldKey, {renews: p.serial, csrPem: request, request: {server: 'pki-server', profile: p.profile, deviceLabel: p.deviceLabel}});
  return {request, signature, device};
}
