import {Flags} from '@oclif/core';

/** Flags for an encrypted pkictl key (as pkictl names them); without them csshctl prompts. */
export const passphraseFlags = {
  'passphrase-file': Flags.string({summary: 'File holding the passphrase of your encrypted PKI key.', helpGroup: 'PKI KEY'}),
  'passphrase-env': Flags.string({summary: 'Environment variable holding the passphrase of your encrypted PKI key.', helpGroup: 'PKI KEY'}),
};

export const serverFlag = Flags.string({summary: 'The cssh-authz URL (default: csshctl.server).'});
