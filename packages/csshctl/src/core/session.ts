import {readFileSync} from 'node:fs';
import {type CommandContext, invalidInput, usageError} from '@bcl/core';
import {AuthzClient} from './authz-client.js';
import type {TotpCodeSource} from './certificates.js';
import {type ClientIdentity, loadClientIdentity} from './identity.js';
import {type CsshctlRuntime, requireServer} from './settings.js';

export interface PassphraseSource {
  file?: string | undefined;
  env?: string | undefined;
}

/**
 * A client of cssh-authz for this command run: the server from the configuration, its CA, and
 * (when `identity` is required) the PKI client certificate for mutual TLS.
 */
export async function authzClient(
  ctx: CommandContext,
  settings: CsshctlRuntime,
  options: {passphrase?: PassphraseSource; identity: 'required' | 'optional'; timeoutMs?: number; retries?: number; signal?: AbortSignal},
): Promise<{client: AuthzClient; identity: ClientIdentity | undefined}> {
  const server = requireServer(settings);
  let ca: string | undefined;
  if (settings.serverCa) {
    try {
      ca = readFileSync(settings.serverCa, 'utf8');
    } catch (error) {
      throw invalidInput('csshctl.unreadable', `csshctl.serverCa: cannot read ${settings.serverCa}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
    }
  }
  let identity: ClientIdentity | undefined;
  const load = () =>
    loadClientIdentity({
      settings,
      env: ctx.env,
      now: ctx.now(),
      passphrase: (path) => passphrase(ctx, path, options.passphrase ?? {}),
      secret: (s) => ctx.redactor.add(s),
    });
  if (options.identity === 'required') identity = await load();
  else if (settings.certificate !== undefined) identity = await load().catch(() => undefined);
  if (identity) ctx.ui.debug(`authenticating as ${identity.description}`);
  const http = ctx.http({
    tls: {...(ca ? {ca} : {}), ...(identity ? {cert: identity.certPem, key: identity.keyPem} : {})},
    ...(options.timeoutMs ? {timeoutMs: options.timeoutMs} : {}),
    ...(options.retries !== undefined ? {retries: options.retries} : {}),
  });
  return {client: new AuthzClient(http, server, identity?.description, options.signal), identity};
}

/**
 * The TOTP code of this run: --totp-code, else $CSSHCTL_TOTP_CODE; without either, a prompt on a
 * terminal when the service asks for one, and in scripts the service's refusal (exit 4) naming
 * the flag and the variable.
 */
export function totpCodeSource(ctx: CommandContext, flag: string | undefined): TotpCodeSource {
  const given = flag ?? (ctx.env.CSSHCTL_TOTP_CODE || undefined);
  return {
    given,
    async ask(needed) {
      if (!ctx.interactive) throw needed;
      ctx.ui.line(needed.message.replace(/^cssh-authz refused: /, ''));
      return (await ctx.prompt.text({message: 'TOTP code from your authenticator app:', flag: '--totp-code'})).trim();
    },
  };
}

async function passphrase(ctx: CommandContext, path: string, source: PassphraseSource): Promise<string> {
  if (source.file) {
    try {
      return readFileSync(source.file, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      throw invalidInput('csshctl.unreadable', `--passphrase-file: cannot read ${source.file}: ${(error as Error).message}`);
    }
  }
  if (source.env) {
    const value = ctx.env[source.env];
    if (value === undefined) throw usageError(`--passphrase-env: the environment variable ${source.env} is not set`);
    return value;
  }
  return ctx.prompt.password({message: `Passphrase of ${path}`, flag: '--passphrase-file'});
}
