import {Flags} from '@bcl/core';
import {PROFILES} from '../spec/profiles-list.js';

/** --profile here is the access profile; the configuration profile then comes from BCL_PROFILE. */
export const accessFlags = {
  profile: Flags.string({
    char: 'p',
    summary: 'The access profile: readonly, readwrite or owner (the configuration profile comes from BCL_PROFILE here).',
    options: [...PROFILES],
    required: true,
  }),
  database: Flags.string({char: 'd', summary: 'A database the profile applies to (repeatable).', multiple: true, required: true}),
  schema: Flags.string({char: 's', summary: 'PostgreSQL: only these schemas (repeatable; default: every schema of the database).', multiple: true}),
};

export const passwordFlags = {
  'show-password': Flags.boolean({summary: 'Put the password in the result (stdout). Otherwise it is never printed.'}),
  'password-file': Flags.string({summary: 'Write the password to this file, mode 0600.'}),
  'to-secret': Flags.string({summary: 'Write username, password, host, port and database to this Kubernetes Secret: <namespace>/<name>.'}),
};
