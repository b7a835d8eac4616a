import {Flags} from '@bcl/core';
import type {CommandContext} from '@bcl/core';
import pkictlNamespace, {type PkictlSettings} from './config.js';

/** Flags shared by pkictl commands (light: only oclif's flag builders). */
export const storeFlag = Flags.string({summary: 'The PKI store: a path or git URL (default: pkictl.store).'});
export const serverFlag = Flags.string({summary: 'The PKI server\'s URL (default: pkictl.server; it wins over pkictl.store).'});
export const emailFlag = Flags.string({summary: 'Your email, the certificate identity (default: pkictl.email).'});
export const caKeyFlag = Flags.string({summary: 'The encrypted CA private key file (default: pkictl.caKey).'});
export const caFingerprintFlag = Flags.string({summary: 'The SHA-256 fingerprint of the store\'s root CA that you trust (default: pkictl.caFingerprint, pinned on first use).'});
export const passphraseFileFlag = Flags.string({summary: 'Read the key passphrase from this file (first line).', exclusive: ['passphrase-env']});
export const passphraseEnvFlag = Flags.string({summary: 'Read the key passphrase from this environment variable.'});

export const storeFlags = {store: storeFlag, server: serverFlag, 'ca-fingerprint': caFingerprintFlag};
export const storeConfigFlags = {store: 'pkictl.store', server: 'pkictl.server', 'ca-fingerprint': 'pkictl.caFingerprint'};
export const adminFlags = {
  ...storeFlags,
  email: emailFlag,
  'ca-key': caKeyFlag,
  'passphrase-file': passphraseFileFlag,
  'passphrase-env': passphraseEnvFlag,
};
export const configFlagMap = {...storeConfigFlags, email: 'pkictl.email', 'ca-key': 'pkictl.caKey'};

export function settingsOf(ctx: CommandContext): PkictlSettings {
  return ctx.config.namespace(pkictlNamespace);
}

export function adminFlagValues(flags: {'ca-key'?: string | undefined; 'passphrase-file'?: string | undefined; 'passphrase-env'?: string | undefined}) {
  return {caKeyFile: flags['ca-key'], passphraseFile: flags['passphrase-file'], passphraseEnv: flags['passphrase-env']};
}

export {CRL_REASONS as CRL_REASON_NAMES} from '@bcl/pki-ca/crl-reasons';

/**
 * The positional arguments of a variadic command (strict = false): oclif leaves flags in argv,
 * so skip them and the values of flags that take one.
 */
export function positionalArgs(argv: readonly string[], flagDefs: Record<string, {type?: string; char?: string}>): string[] {
  const valued = new Set<string>();
  for (const [name, def] of Object.entries(flagDefs)) {
    if (def.type !== 'option') continue;
    valued.add(`--${name}`);
    if (def.char) valued.add(`-${def.char}`);
  }
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('-')) {
      if (valued.has(arg)) i++;
      continue;
    }
    out.push(arg);
  }
  return out;
}

/**
 * `pkictl request --profile <name>` names the certificate profile (as the issue and users say it),
 * which collides with the global --profile (configuration profile). The request command takes it
 * out of argv before the base class parses; its configuration profile comes from BCL_PROFILE.
 */
export function takeCertProfile(argv: string[]): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    if (arg === '--profile' && i + 1 < argv.length) {
      value = argv[i + 1];
      argv.splice(i, 2);
      i--;
    } else if (arg.startsWith('--profile=')) {
      value = arg.slice('--profile='.length);
      argv.splice(i, 1);
      i--;
    }
  }
  return value;
}
