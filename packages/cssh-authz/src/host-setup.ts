import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {request} from 'node:https';
import {join} from 'node:path';
import {writeFileAtomicSync} from '@bcl/files';
import {parsePublicKey} from '@bcl/openssh-formats';

/**
 * What a host needs to accept cssh-authz certificates: the CA keys and KRL files (kept fresh by
 * cssh-daemon, its configuration and systemd unit), four sshd_config lines, and the bcl
 * configuration `csshctl principals` reads.
 */
export interface HostSetupOptions {
  server: string;
  /** PEM bundle that signs the service's TLS certificate (else the system roots). */
  cacert?: string;
  /** This host's name as the access rules know it. */
  hostname: string;
  /** Where csshctl is installed on the host. */
  csshctl: string;
  /** The unprivileged user sshd runs the principals command as. */
  commandUser: string;
  /** Where the files go on the host. */
  sshDir: string;
  /** Where cssh-daemon is installed on the host. */
  daemon?: string;
  /** The host's PKI certificate and key on the host (cssh-daemon asks for this host's accounts with them). */
  hostCert?: string;
  hostKey?: string;
  /** Write the files here instead of only printing the instructions. */
  outDir?: string;
}

export interface HostSetup {
  caPublicKey: string;
  sshdConfig: string;
  files: {path: string; mode: string; content: string}[];
  /** cssh-daemon's systemd unit (packages/cssh-daemon/systemd/cssh-daemon.service with these paths). */
  unit: string;
  daemonConfig: string;
  text: string;
}

/** The systemd unit of cssh-daemon; with the default paths it is the package's own unit file. */
export function daemonUnit(options: {daemon: string; config: string}): string {
  return `[Unit]
Description=cssh-daemon: this host's SSH CA keys, KRL and accounts, kept in step with cssh-authz
Wants=network-online.target
After=network-online.target
Before=ssh.service

[Service]
Type=simple
ExecStart=${options.daemon} run --config ${options.config}
Restart=always
RestartSec=5s
# Root: it replaces sshd's files and runs useradd and usermod; nothing else is granted.
NoNewPrivileges=yes
PrivateTmp=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectControlGroups=yes
StateDirectory=cssh-daemon
StateDirectoryMode=0700

[Install]
WantedBy=multi-user.target
`;
}

export class FetchError extends Error {
  override readonly name = 'FetchError';
}

export async function hostSetup(options: HostSetupOptions): Promise<HostSetup> {
  const base = options.server.replace(/\/+$/, '');
  const ca = options.cacert ? readFileSync(options.cacert) : undefined;
  const caPublicKey = (await fetch(`${base}/v1/ca.pub`, ca)).toString('utf8').trim();
  parsePublicKey(caPublicKey);
  const dir = options.outDir ?? options.sshDir;
  const caPath = join(dir, 'cssh_user_ca.pub');
  const krlPath = join(dir, 'cssh_revoked.krl');
  const bclConfigPath = options.outDir ? join(options.outDir, 'bcl-config.yaml') : '/etc/bcl/config.yaml';
  const sshdConfig = [
    `# cssh-authz: accept its short-lived user certificates (${base})`,
    `TrustedUserCAKeys ${caPath}`,
    `RevokedKeys ${krlPath}`,
    `AuthorizedPrincipalsCommand ${options.csshctl} principals %u --host ${options.hostname} --key-id %i --serial %s`,
    `AuthorizedPrincipalsCommandUser ${options.commandUser}`,
    '',
  ].join('\n');
  const bclConfig = ['# csshctl principals asks cssh-authz which logins the access rules allow on this host', 'csshctl:', `  server: ${base}`, ...(options.cacert ? [`  serverCa: ${options.outDir ? join(options.outDir, 'cssh-authz-ca.pem') : '/etc/bcl/cssh-authz-ca.pem'}`] : []), ''].join('\n');
  const serverCaPath = options.outDir ? join(options.outDir, 'cssh-authz-ca.pem') : '/etc/bcl/cssh-authz-ca.pem';
  const daemonConfigPath = options.outDir ? join(options.outDir, 'cssh-daemon.yaml') : '/etc/cssh-daemon/config.yaml';
  const unitPath = options.outDir ? join(options.outDir, 'cssh-daemon.service') : '/etc/systemd/system/cssh-daemon.service';
  const hostCert = options.hostCert ?? '/etc/cssh-daemon/host.pem';
  const hostKey = options.hostKey ?? '/etc/cssh-daemon/host-key.pem';
  const daemonConfig = [
    '# cssh-daemon keeps the CA keys, the KRL and the granted accounts of this host in step with cssh-authz',
    `server: ${base}`,
    ...(options.cacert ? [`serverCa: ${serverCaPath}`] : []),
    `hostname: ${options.hostname}`,
    "identity:                  # this host's PKI certificate (clientAuth, DNS name = hostname) and key",
    `  cert: ${hostCert}`,
    `  key: ${hostKey}`,
    'files:',
    `  krl: ${krlPath}`,
    `  trustedCaKeys: ${caPath}`,
    'interval: 30s',
    'staleAfter: 5m',
    '',
  ].join('\n');
  const unit = daemonUnit({daemon: options.daemon ?? '/usr/local/bin/cssh-daemon', config: daemonConfigPath});
  const files = [
    {path: caPath, mode: '0644', content: `${caPublicKey}\n`},
    {path: bclConfigPath, mode: '0644', content: bclConfig},
    {path: daemonConfigPath, mode: '0644', content: daemonConfig},
    {path: unitPath, mode: '0644', content: unit},
    ...(ca ? [{path: serverCaPath, mode: '0644', content: ca.toString('utf8')}] : []),
  ];
  if (options.outDir) {
    mkdirSync(options.outDir, {recursive: true});
    for (const f of files) writeFileSync(f.path, f.content, {mode: Number.parseInt(f.mode, 8)});
    const krl = await fetch(`${base}/v1/krl`, ca);
    writeFileAtomicSync(krlPath, krl, {mode: 0o644});
    writeFileSync(join(options.outDir, 'sshd_config'), sshdConfig, {mode: 0o644});
  }
  const text = [
    `# Host set-up for ${options.hostname}, trusting ${base}`,
    '#',
    `# 1. ${caPath} (0644, root): the user CA`,
    `echo '${caPublicKey}' > ${caPath}`,
    '#',
    `# 2. ${krlPath} (0644, root): revoked certificates; sshd refuses every key while it is missing.`,
    `#    cssh-daemon keeps it and ${caPath} fresh (conditional GET, atomic replace, CA rotations),`,
    `#    and creates and locks the accounts granted on this host. Its configuration, ${daemonConfigPath}:`,
    ...daemonConfig.trimEnd().split('\n').map((l) => `#    ${l}`),
    `#    its unit, ${unitPath}, then: systemctl daemon-reload && systemctl enable --now cssh-daemon`,
    ...unit.trimEnd().split('\n').map((l) => `#    ${l}`),
    '#',
    `# 3. ${options.csshctl} must be root-owned and not writable by others (sshd checks), and read`,
    `#    its server from ${bclConfigPath}:`,
    ...bclConfig.trimEnd().split('\n').map((l) => `#    ${l}`),
    '#',
    '# 4. sshd_config (e.g. /etc/ssh/sshd_config.d/cssh-authz.conf), then reload sshd:',
    sshdConfig.trimEnd(),
    '',
  ].join('\n');
  return {caPublicKey, sshdConfig, files, unit, daemonConfig, text};
}

function fetch(url: string, ca: Buffer | undefined): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = request(url, {method: 'GET', timeout: 15_000, ...(ca ? {ca} : {})}, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        if (res.statusCode === 200) resolve(body);
        else reject(new FetchError(`GET ${url} answered ${res.statusCode}: ${body.toString('utf8').slice(0, 200)}`));
      });
      res.on('error', (e) => reject(new FetchError(`GET ${url}: ${e.message}`)));
    });
    req.on('timeout', () => req.destroy(new Error('timed out after 15s')));
    req.on('error', (e) => reject(new FetchError(`cannot reach ${url}: ${e.message}`)));
    req.end();
  });
}
