import {Flags} from '@bcl/core';

export const specFlags = {
  file: Flags.string({char: 'f', summary: 'The database spec (db.yaml).', required: true}),
  env: Flags.string({char: 'e', summary: 'The environment whose overrides apply (environments.<name> in the spec).'}),
};

export const lockFlags = {
  'lock-timeout': Flags.string({
    summary: "How long to wait for another run's lock on the instance, e.g. 0s, 30s, 5m (default: dbctl.terraform.lockTimeout, 60s).",
  }),
};
