import {Flags} from '@bcl/core';

/** Flags for an encrypted pkictl key (as pkictl names them); without them csshctl prompts. */
export const passphraseFlags = {
  'passphrase-file': Flags.string({summary: 'File holding the passphrase of your encrypted PKI key.', helpGroup: 'PKI KEY'}),
  'passphrase-env': Flags.string({summary: 'Environment variable holding the passphrase of your encrypted PKI key.', helpGroup: 'PKI KEY'}),
};

export const serverFlag = Flags.string({summary: 'The cssh-authz URL (default: csshctl.server).'});

/** A TOTP code for grants that require one (else $CSSHCTL_TOTP_CODE, else a prompt on a terminal). */
export const totpFlags = {
  'totp-code': Flags.string({summary: 'The code of your authenticator app, when a grant requires TOTP (default: $CSSHCTL_TOTP_CODE, else a prompt).', helpGroup: 'SECOND FACTOR'}),
};
