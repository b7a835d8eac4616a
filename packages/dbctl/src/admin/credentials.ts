import {usageError} from '@bcl/core';
import type {SecretStore} from '../secrets/kubernetes.js';
import {parseSecretRef} from '../secrets/kubernetes.js';
import {writePasswordFile} from './password.js';
import type {ServerTarget} from './target.js';

/** Where a generated password goes: nowhere but the places the user asked for. */
export interface PasswordSinks {
  showPassword: boolean;
  passwordFile?: string | undefined;
  toSecret?: string | undefined;
}

export interface DeliveredPassword {
  /** Only with --show-password. */
  password?: string;
  passwordFile?: string;
  secret?: string;
}

/** Refuses, before anything changes, to make a password that would be shown nowhere. */
export function requireSink(sinks: PasswordSinks): void {
  if (sinks.toSecret) parseSecretRef(sinks.toSecret);
  if (!sinks.showPassword && !sinks.passwordFile && !sinks.toSecret) {
    throw usageError('the new password would be lost: give --password-file <path>, --to-secret <namespace>/<name> or --show-password', {
      hint: 'dbctl never stores or prints a password unless asked to.',
      details: {flags: ['--password-file', '--to-secret', '--show-password']},
    });
  }
}

/** Delivers a password to each sink asked for (the password file is written 0600). */
export async function deliverPassword(
  user: string,
  password: string,
  sinks: PasswordSinks,
  server: ServerTarget,
  database: string | undefined,
  secrets: () => Promise<SecretStore>,
): Promise<DeliveredPassword> {
  const out: DeliveredPassword = {};
  if (sinks.passwordFile) {
    writePasswordFile(sinks.passwordFile, password);
    out.passwordFile = sinks.passwordFile;
  }
  if (sinks.toSecret) {
    const {namespace, name} = parseSecretRef(sinks.toSecret);
    const data: Record<string, string> = {username: user, password, host: server.host, port: String(server.port), engine: server.engine};
    if (database) data.database = database;
    await (await secrets()).write(namespace, name, data, {'dbctl.bcl/user': sanitizeLabel(user)});
    out.secret = `${namespace}/${name}`;
  }
  if (sinks.showPassword) out.password = password;
  return out;
}

function sanitizeLabel(value: string): string {
  const cleaned = value.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return cleaned.slice(0, 63) || 'user';
}
