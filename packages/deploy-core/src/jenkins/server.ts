import {readFileSync, statSync} from 'node:fs';
import {isAbsolute, resolve} from 'node:path';
import {invalidInput} from '@bcl/core/errors';
import type {Redactor} from '@bcl/core/process';

/** The process environment (variables may be unset). */
type Env = Record<string, string | undefined>;

/** The Jenkins servers of the configuration (svctl.jenkins), by name. */
export interface JenkinsSettings {
  jenkins?: Record<string, {url: string; user: string; tokenEnv?: string | undefined; tokenFile?: string | undefined}> | undefined;
}

/** A Jenkins controller from `svctl.jenkins.<name>`, with its API token resolved. */
export interface JenkinsServer {
  name: string;
  url: string;
  user: string;
  /** Never printed: registered with the redactor as soon as it is read. */
  token: string;
}

/**
 * Picks the Jenkins server (the `--jenkins` flag, else the only one configured) and reads its API
 * token from the environment variable or the 0600 file the configuration names. Every problem is
 * exit 3 naming the configuration key.
 */
export function resolveJenkinsServer(settings: JenkinsSettings, options: {name?: string | undefined; env: Env; cwd: string; redactor: Redactor}): JenkinsServer {
  const servers = settings.jenkins ?? {};
  const names = Object.keys(servers);
  let name = options.name;
  if (!name) {
    if (names.length === 0) {
      throw invalidInput('svctl.jenkins_not_configured', 'no Jenkins server is configured (svctl.jenkins is empty)', {
        hint: 'Add one: bcl config set svctl.jenkins.ci.url https://jenkins.example.com, then .user and .tokenEnv (or .tokenFile).',
      });
    }
    if (names.length > 1) {
      throw invalidInput('svctl.jenkins_ambiguous', `several Jenkins servers are configured (${names.sort().join(', ')}); choose one with --jenkins`, {
        hint: `Pass --jenkins ${names[0]}, or set it per project in .bcl.yaml.`,
      });
    }
    name = names[0]!;
  }
  const server = servers[name];
  if (!server) {
    throw invalidInput('svctl.jenkins_unknown', `svctl.jenkins.${name} is not configured`, {
      hint: names.length > 0 ? `Configured Jenkins servers: ${names.sort().join(', ')}.` : 'Add it with bcl config set svctl.jenkins.<name>.url <url>.',
      details: {jenkins: name},
    });
  }
  const token = readToken(`svctl.jenkins.${name}`, server, options);
  options.redactor.add(token);
  return {name, url: server.url.replace(/\/+$/, ''), user: server.user, token};
}

/**
 * Reads a token from `tokenEnv` or `tokenFile`. A token file readable by others is refused: a
 * token shared with the machine's other users is a leaked token.
 */
export function readToken(key: string, ref: {tokenEnv?: string | undefined; tokenFile?: string | undefined}, options: {env: Env; cwd: string}): string {
  if (ref.tokenEnv) {
    const value = options.env[ref.tokenEnv]?.trim();
    if (!value) {
      throw invalidInput('svctl.token_missing', `${key}.tokenEnv names ${ref.tokenEnv}, which is not set`, {
        hint: `Export ${ref.tokenEnv} with the API token (CI: from its credentials store), or use ${key}.tokenFile.`,
        details: {key: `${key}.tokenEnv`},
      });
    }
    return value;
  }
  if (ref.tokenFile) {
    const file = isAbsolute(ref.tokenFile) ? ref.tokenFile : resolve(options.cwd, ref.tokenFile.replace(/^~(?=\/)/, options.env.HOME ?? '~'));
    let mode: number;
    try {
      mode = statSync(file).mode;
    } catch {
      throw invalidInput('svctl.token_missing', `${key}.tokenFile: ${file} does not exist`, {details: {key: `${key}.tokenFile`, file}});
    }
    if ((mode & 0o077) !== 0) {
      throw invalidInput('svctl.token_file_mode', `${key}.tokenFile: ${file} is readable by other users (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); it must be 0600`, {
        hint: `chmod 600 ${file}`,
        details: {key: `${key}.tokenFile`, file, mode: (mode & 0o777).toString(8)},
      });
    }
    const value = readFileSync(file, 'utf8').trim();
    if (!value) throw invalidInput('svctl.token_missing', `${key}.tokenFile: ${file} is empty`, {details: {key: `${key}.tokenFile`, file}});
    return value;
  }
  throw invalidInput('svctl.token_missing', `${key} has neither tokenEnv nor tokenFile`, {
    hint: `Set ${key}.tokenEnv to the name of an environment variable holding the token, or ${key}.tokenFile to a 0600 file.`,
    details: {key},
  });
}
