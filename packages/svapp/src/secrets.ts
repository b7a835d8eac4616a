import {readFileSync, statSync} from 'node:fs';
import type {SecretSource} from './config.js';

/** A configuration value that cannot be used: the message names the key. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Reads a secret the configuration points at (`{file}` or `{env}`). A file that other users may
 * read is refused: a password shared with the machine's other users is a leaked password.
 */
export function readSecret(key: string, source: SecretSource, env: Record<string, string | undefined> = process.env): string {
  if (source.env) {
    const value = env[source.env]?.trim();
    if (!value) throw new ConfigError(`${key}.env names ${source.env}, which is not set`);
    return value;
  }
  const file = source.file!;
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch {
    throw new ConfigError(`${key}.file: ${file} does not exist`);
  }
  if ((mode & 0o077) !== 0) throw new ConfigError(`${key}.file: ${file} is readable by other users (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); it must be 0600 (chmod 600 ${file})`);
  const value = readFileSync(file, 'utf8').trim();
  if (!value) throw new ConfigError(`${key}.file: ${file} is empty`);
  return value;
}

/**
 * Every Jenkins token the configuration points at, read once at start (and by `svapp check`): a
 * missing or widely readable token is a configuration error then, not a failed build later. The
 * tokens are read again at each build, so a rotated file takes effect without a restart.
 */
export function checkJenkinsTokens(jenkins: Record<string, {token: SecretSource}>, env: Record<string, string | undefined> = process.env): string[] {
  return Object.entries(jenkins).map(([name, server]) => readSecret(`jenkins.${name}.token`, server.token, env));
}
