import type {PeerCertificate, TLSSocket} from 'node:tls';
import {checkPeer} from '@bcl/mtls';

/**
 * A host calling as itself (cssh-daemon): a client certificate the PKI issued for the host,
 * verified by the TLS layer like a person's, naming the host by its DNS and IP subjectAltNames
 * (or its common name when it has none). A person's certificate (one with an email) is not a host.
 */
export type HostCheck = {ok: true; hostnames: string[]; subject: string; x509Serial: string} | {ok: false; status: 401 | 403; code: string; reason: string; subject?: string; x509Serial?: string};

export function checkHostPeer(socket: TLSSocket): HostCheck {
  const peer = checkPeer(socket, {kinds: ['person']});
  if (peer.ok) {
    return {ok: false, status: 403, code: 'not_a_host', reason: `the client certificate names a person (${peer.identity.email}), not a host: cssh-daemon authenticates with the host's certificate`, subject: peer.identity.subject, x509Serial: peer.identity.x509Serial};
  }
  if (peer.code !== 'no_email') return peer;
  const cert = socket.getPeerCertificate() as PeerCertificate;
  const names = (cert.subjectaltname ?? '')
    .split(/,\s*/)
    .flatMap((e) => (e.startsWith('DNS:') ? [e.slice(4)] : e.startsWith('IP Address:') ? [e.slice(11)] : []))
    .map((n) => n.toLowerCase());
  const cn = (cert.subject as unknown as Record<string, string | undefined> | undefined)?.CN;
  const hostnames = names.length > 0 ? names : cn ? [cn.toLowerCase()] : [];
  if (hostnames.length === 0) return {ok: false, status: 403, code: 'no_hostname', reason: 'the client certificate names no host (no DNS or IP subjectAltName, no common name)', subject: peer.subject ?? '', x509Serial: peer.x509Serial ?? ''};
  return {ok: true, hostnames, subject: peer.subject ?? '', x509Serial: peer.x509Serial ?? ''};
}
