import {homedir} from 'node:os';
import {dirname, isAbsolute, join, resolve} from 'node:path';
import {type CommandContext, invalidInput} from '@bcl/core';
import {DURATION_EXAMPLES, parseDuration} from '@bcl/cssh-authz/api';
import csshctlNamespace from '../config.js';

/** csshctl's settings with durations in seconds and file paths made absolute. */
export interface CsshctlRuntime {
  server: string | undefined;
  serverCa: string | undefined;
  certificate: string | {cert: string; key: string} | undefined;
  ttlSeconds: number;
  sshKey: string | undefined;
  ssh: string;
  renewBeforeSeconds: number;
  /** pkictl.email: whose certificate to pick when csshctl.certificate is not set. */
  pkictlEmail: string | undefined;
  /** cssh-daemon's state directory, and whether it was configured (not the default). */
  daemonState: {dir: string; configured: boolean};
}

/**
 * Reads the csshctl namespace. A relative path in a config file is relative to that file (as in
 * kubeconfig), elsewhere to the working directory; "~/" is the home directory.
 */
export function runtimeSettings(ctx: Pick<CommandContext, 'config' | 'cwd' | 'env'>): CsshctlRuntime {
  const s = ctx.config.namespace(csshctlNamespace);
  const path = (key: string, value: string | undefined) => {
    if (value === undefined) return undefined;
    if (value.startsWith('~/')) return join(ctx.env.HOME && isAbsolute(ctx.env.HOME) ? ctx.env.HOME : homedir(), value.slice(2));
    if (isAbsolute(value)) return value;
    const file = ctx.config.entry(key)?.origin.file;
    return resolve(file ? dirname(file) : ctx.cwd, value);
  };
  const certificate =
    typeof s.certificate === 'object' ? {cert: path('csshctl.certificate.cert', s.certificate.cert)!, key: path('csshctl.certificate.key', s.certificate.key)!} : s.certificate;
  const pkictlEmail = ctx.config.get('pkictl.email');
  return {
    server: s.server?.replace(/\/+$/, ''),
    serverCa: path('csshctl.serverCa', s.serverCa),
    certificate,
    ttlSeconds: seconds('csshctl.ttl', s.ttl),
    sshKey: path('csshctl.sshKey', s.sshKey),
    ssh: s.ssh,
    renewBeforeSeconds: seconds('csshctl.renewBefore', s.renewBefore),
    pkictlEmail: typeof pkictlEmail === 'string' ? pkictlEmail : undefined,
    daemonState: {dir: path('csshctl.daemonState', s.daemonState)!, configured: ctx.config.entry('csshctl.daemonState')?.origin.kind !== 'default'},
  };
}

function seconds(key: string, text: string): number {
  const seconds = parseDuration(text);
  if (seconds === undefined || seconds <= 0) throw invalidInput('config.invalid', `${key}: expected ${DURATION_EXAMPLES}, got "${text}"`);
  return seconds;
}

export function requireServer(settings: CsshctlRuntime): string {
  if (!settings.server) {
    throw invalidInput('csshctl.no_server', 'no cssh-authz server configured (csshctl.server)', {
      hint: 'Set it with: bcl config set csshctl.server https://cssh-authz.example.com',
    });
  }
  return settings.server;
}
