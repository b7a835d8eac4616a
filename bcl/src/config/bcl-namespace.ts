import * as z from 'zod';
import {defineNamespace} from './namespace.js';
import {projectKey, trustedKey} from './trust.js';

/** The `bcl` namespace: settings of the framework shared by every tool. */
export const bclSchema = () => z.strictObject({
  update: z
    .strictObject({
      /** Where releases are published: a directory or an http(s) URL. */
      store: trustedKey(z.string().min(1).optional()),
      /** The channel installs and updates follow unless --channel says otherwise. */
      channel: projectKey(z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'a channel name of lowercase letters, digits, ".", "_" or "-"').default('stable')),
      /** Ed25519 public keys (PEM or "ed25519:<base64 raw key>") whose signatures are trusted. */
      trustedKeys: trustedKey(z.array(z.string().min(1)).default([])),
      /** Where the tool shims go; default $XDG_DATA_HOME/bcl/bin. */
      binDir: trustedKey(z.string().min(1).optional()),
      /** How many previous versions stay installed for an instant rollback. */
      keep: projectKey(z.number().int().min(1).max(20).default(2)),
      /** The once-a-day background check for a newer version. */
      check: projectKey(z.boolean().default(true)),
    })
    .default({channel: 'stable', trustedKeys: [], keep: 2, check: true}),
  // Timeouts and retries are preferences.
  http: projectKey(
    z
    .strictObject({
      /** The deadline of one HTTP operation in seconds, its retries and their waits included. */
      timeoutSeconds: z.number().positive().max(3600).default(30),
      /** Retries of idempotent requests on network errors and 5xx/429 answers. */
      retries: z.number().int().min(0).max(10).default(3),
    })
    .default({timeoutSeconds: 30, retries: 3}),
  ),
});

export type BclSettings = z.output<ReturnType<typeof bclSchema>>;

export const bclNamespace = defineNamespace('bcl', bclSchema, 'the framework: distribution, updates, HTTP', {
  defaults: {update: {channel: 'stable', trustedKeys: [], keep: 2, check: true}, http: {timeoutSeconds: 30, retries: 3}},
});
export default bclNamespace;
