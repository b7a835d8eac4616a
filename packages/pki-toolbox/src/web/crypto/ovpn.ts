/**
 * The OpenVPN client profile: everything inline (CA, certificate, key, the server's settings), the
 * single-file form OpenVPN Connect, Tunnelblick and NetworkManager (nmcli connection import type
 * openvpn) all import.
 */
import type {VpnServer} from '../api.js';

export interface ProfileParts {
  server: VpnServer;
  email: string;
  serial: string;
  notAfter: string;
  caPem: string;
  certPem: string;
  keyPem: string;
}

export function vpnProfile(p: ProfileParts): string {
  const lines = [
    `# ${p.server.name} VPN profile for ${p.email}: certificate ${p.serial}, valid until ${p.notAfter}.`,
    '# Made by the PKI Toolbox in your browser. It holds your private key: keep it to yourself.',
    'client',
    'dev tun',
    `proto ${p.server.proto === 'tcp' ? 'tcp-client' : 'udp'}`,
    `remote ${p.server.host} ${p.server.port}`,
    'resolv-retry infinite',
    'nobind',
    'persist-key',
    'persist-tun',
    'remote-cert-tls server',
    'tls-version-min 1.2',
    'data-ciphers AES-256-GCM:AES-128-GCM:CHACHA20-POLY1305',
    'verb 3',
    '<ca>', p.caPem.trim(), '</ca>',
    '<cert>', p.certPem.trim(), '</cert>',
    '<key>', p.keyPem.trim(), '</key>',
  ];
  return `${lines.join('\n')}\n`;
}

/** A file name from the server's name: "Berlin office" -> "berlin-office.ovpn". */
export function profileFileName(server: Pick<VpnServer, 'name'>): string {
  const base = server.name.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return `${base || 'vpn'}.ovpn`;
}

/** The private key in a profile (or any PEM text) the person chose, for a renewal on this device. */
export function keyFromProfile(text: string): string | undefined {
  return /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/.exec(text)?.[0];
}
