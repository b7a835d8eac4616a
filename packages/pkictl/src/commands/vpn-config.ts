import {Flags} from '@bcl/core';
import {BclCommand, type ResultWriter} from '@bcl/core';
import type {VpnConfigResult} from '../core/certs.js';
import {caFingerprintFlag, emailFlag, settingsOf} from '../flags.js';

export default class VpnConfig extends BclCommand<typeof VpnConfig> {
  static override summary = 'Write an OpenVPN client profile with the CA, your certificate and key inline.';
  static override description =
    'Uses your valid vpn certificate (else client) from this machine, or --serial. The profile holds the private key and is written with mode 0600; an encrypted key stays encrypted (OpenVPN asks for its passphrase). The CA in the profile must be the one you pinned (pkictl.caFingerprint).';
  static override examples = ['<%= config.bin %> vpn-config --remote vpn.example.com --out ~/example.ovpn', '<%= config.bin %> vpn-config --remote vpn.example.com:443 --proto tcp --out tcp.ovpn'];
  static override flags = {
    remote: Flags.string({summary: 'The VPN server as host[:port] (default port 1194).', required: true}),
    proto: Flags.string({summary: 'The transport.', options: ['udp', 'tcp'], default: 'udp'}),
    out: Flags.string({summary: 'The .ovpn file to write.', required: true}),
    serial: Flags.string({summary: 'Use this certificate (default: your newest valid vpn or client certificate).'}),
    email: emailFlag,
    'ca-fingerprint': caFingerprintFlag,
  };
  static override configFlags = {email: 'pkictl.email', 'ca-fingerprint': 'pkictl.caFingerprint'};

  async run(): Promise<VpnConfigResult> {
    const {parseSerialArg} = await import('../store/pki.js');
    const {vpnConfig} = await import('../core/certs.js');
    const f = this.flags;
    return vpnConfig(this.ctx, settingsOf(this.ctx), {remote: f.remote, proto: f.proto as 'udp' | 'tcp', out: f.out, serial: f.serial ? parseSerialArg(f.serial, '--serial') : undefined});
  }

  protected override renderResult(r: VpnConfigResult, out: ResultWriter): void {
    out.keyValue({out: `${r.out} (holds your private key; mode 0600)`, remote: `${r.remote} ${r.port}/${r.proto}`, certificate: `${r.serial} (${r.email}, until ${r.notAfter})`});
  }
}
