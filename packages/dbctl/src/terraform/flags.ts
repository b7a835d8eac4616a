import {Flags} from '@oclif/core';

export const specFlags = {
  file: Flags.string({char: 'f', summary: 'The database spec (db.yaml).', required: true}),
  env: Flags.string({char: 'e', summary: 'The environment whose overrides apply (environments.<name> in the spec).'}),
};
