import type {CommandContext} from '../command/context.js';
import {invalidInput} from '../errors.js';
import {type InstallRequest, type UpdaterIo, pauseHook} from './installer.js';
import {installRoots, type InstallRoots} from './layout.js';
import {currentPlatform} from './platforms.js';
import {parsePublicKey} from './signing.js';
import {openStore} from './store.js';
import {isValidVersion} from './versions.js';

export interface UpdateSettings {
  store?: string;
  channel: string;
  trustedKeys: string[];
  binDir?: string;
  keep: number;
  check: boolean;
}

export function updateSettings(ctx: CommandContext): UpdateSettings {
  return (ctx.config.get('bcl') as {update: UpdateSettings}).update;
}

/** Install roots from configuration: $XDG_DATA_HOME/bcl, shims in bcl.update.binDir if set. */
export function configuredRoots(ctx: CommandContext): InstallRoots {
  const settings = updateSettings(ctx);
  return installRoots(ctx.paths, settings.binDir);
}

/**
 * Everything the installer needs, from the command's context and configuration: the store
 * (bcl.update.store), the trusted keys (bcl.update.trustedKeys), this machine's platform.
 */
export function updaterIo(ctx: CommandContext, roots: InstallRoots, runningFrom?: string): UpdaterIo {
  const settings = updateSettings(ctx);
  if (!settings.store) {
    throw invalidInput('update.no_store', 'bcl.update.store is not set: there is no store to install from', {
      hint: 'Set it to the release store (a directory or an http(s) URL): bcl config set bcl.update.store <store>',
    });
  }
  if (settings.trustedKeys.length === 0) {
    throw invalidInput('update.no_trusted_keys', 'bcl.update.trustedKeys is empty: no signature could be trusted', {
      hint: 'Add the release public key your team publishes: bcl config set bcl.update.trustedKeys ed25519:<base64>',
    });
  }
  const trusted = settings.trustedKeys.map((k, i) => parsePublicKey(k, `bcl.update.trustedKeys[${i}]`));
  const platform = currentPlatform();
  if (!platform) {
    throw invalidInput('update.platform', `no BCL release is built for ${process.platform}-${process.arch}`, {hint: 'Run the tools from a checkout (./scripts/bootstrap) instead.'});
  }
  const token = ctx.env.BCL_STORE_TOKEN;
  ctx.redactor.add(token);
  return {
    store: openStore(settings.store, {http: () => ctx.http(), cwd: ctx.cwd, headers: token ? {authorization: `Bearer ${token}`} : {}}),
    trusted,
    roots,
    platform,
    keep: settings.keep,
    ui: ctx.ui,
    runner: ctx.runner,
    now: ctx.now,
    signal: ctx.signal,
    cacheDir: ctx.paths.cache,
    pause: pauseHook(ctx.env),
    timeoutMs: ((ctx.config.get('bcl') as {http?: {timeoutSeconds?: number}}).http?.timeoutSeconds ?? 30) * 1000,
    ...(runningFrom ? {runningFrom} : {}),
  };
}

/** A --channel value: the same rule as bcl.update.channel (it becomes a path in the store). */
export function checkChannel(channel: string, flag = '--channel'): string {
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(channel)) {
    throw invalidInput('update.channel', `${flag}: "${channel}" is not a channel name`, {hint: 'Channel names are lowercase letters, digits, ".", "_" or "-", e.g. stable or beta.'});
  }
  return channel;
}

export interface InstallFlags {
  channel?: string | undefined;
  version?: string | undefined;
  force?: boolean;
  'allow-downgrade'?: boolean;
}

/** A --version value: a semantic version (prereleases allowed). */
export function checkVersion(version: string | undefined): string | undefined {
  if (version !== undefined && !isValidVersion(version)) {
    throw invalidInput('update.version', `--version: "${version}" is not a semantic version`, {hint: 'Use e.g. 1.4.2 or 1.5.0-beta.1.'});
  }
  return version;
}

/**
 * What `bcl install` and `<tool> update` ask the installer for: the flags, checked, with the
 * channel taken from --channel, else the one the tool was installed from, else bcl.update.channel.
 */
export function installRequest(tool: string, flags: InstallFlags, recordedChannel: string | undefined, settings: UpdateSettings): InstallRequest {
  const version = checkVersion(flags.version);
  const explicit = flags.channel !== undefined ? checkChannel(flags.channel) : undefined;
  return {
    tool,
    channel: explicit ?? recordedChannel ?? settings.channel,
    channelExplicit: explicit !== undefined,
    ...(version ? {version} : {}),
    force: Boolean(flags.force),
    allowDowngrade: Boolean(flags['allow-downgrade']),
  };
}
