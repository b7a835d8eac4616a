import {readFileSync, statSync} from 'node:fs';
import {resolve} from 'node:path';
import {Args, BclCommand, durationFlag, Flags, invalidInput, type ResultWriter, usageError} from '@bcl/core';
import type {PublishedTool} from '../../publish.js';

export interface PublishResult {
  store: string;
  tools: PublishedTool[];
}

export default class ReleasePublish extends BclCommand<typeof ReleasePublish> {
  static override summary = 'Publish a build directory to a store and sign the channel manifests.';
  static override description = `Uploads each artifact to versions/<tool>/<version>/, writes the signed version manifest, then the signed channel manifest channels/<channel>/<tool>.json (+ .sig) that clients follow. A store is a directory or an http(s) URL written with PUT (a token in BCL_STORE_TOKEN is sent as a bearer token). Published versions are immutable; publishing the same build to another channel promotes it. The channel manifest expires (default 30 days) so clients notice a store that stopped being updated: publish again before then.`;
  static override examples = [
    '<%= config.bin %> release publish --store /srv/bcl-releases --channel stable --key release-key.pem dist/release',
    '<%= config.bin %> release publish --store https://releases.example.com/bcl --channel beta --key release-key.pem dist/release',
    '<%= config.bin %> release publish --store /srv/bcl-releases --channel stable --key new.pem --key old.pem --minimum-version 1.2.0 dist/release',
  ];
  static override args = {
    build: Args.string({description: 'The build directory written by `bcl release build`.', required: true}),
  };
  static override flags = {
    store: Flags.string({summary: 'The store: a directory or an http(s) URL (default: bcl.update.store).'}),
    channel: Flags.string({summary: 'The channel: stable, beta, or any name (default: bcl.update.channel).'}),
    key: Flags.string({summary: 'A private signing key file (repeatable: sign with the old and the new key during a rotation).', multiple: true, multipleNonGreedy: true, required: true}),
    tool: Flags.string({summary: 'Publish only this tool of the build directory (repeatable).', multiple: true, multipleNonGreedy: true}),
    expires: durationFlag({summary: 'How long the channel manifest stays valid (default 30d).'}),
    'minimum-version': Flags.string({summary: 'Versions below this refuse commands that change anything until updated ("none" removes it; default: unchanged).'}),
    'deprecate-below': Flags.string({summary: 'Versions below this print --deprecation-message when they run ("none" removes it; default: unchanged).'}),
    'deprecation-message': Flags.string({summary: 'The message deprecated versions print.'}),
    'allow-downgrade': Flags.boolean({summary: 'Point the channel at a version older than the one it offers.'}),
  };
  static override configFlags = {store: 'bcl.update.store', channel: 'bcl.update.channel'};

  async run(): Promise<PublishResult> {
    const [{publishReleases}, {openStore, isValidVersion}, {parsePrivateKey}] = await Promise.all([
      import('../../publish.js'),
      import('@bcl/core/distribution'),
      import('../../keys.js'),
    ]);
    const settings = this.ctx.config.get('bcl') as {update: {store?: string; channel: string}};
    const location = settings.update.store;
    if (!location) throw usageError('--store is required (or set bcl.update.store)', {hint: 'Pass --store <directory or http(s) URL>.'});
    const keys = this.flags.key.map((f) => {
      const file = resolve(this.ctx.cwd, f);
      let pem: string;
      try {
        pem = readFileSync(file, 'utf8');
      } catch (error) {
        throw invalidInput('release.key_unreadable', `--key: cannot read ${file}: ${(error as Error).message}`);
      }
      if ((statSync(file).mode & 0o077) !== 0) this.ctx.ui.warn(`${file} is readable by other users; chmod 600 it`);
      this.ctx.redactor.add(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''));
      return parsePrivateKey(pem, file);
    });
    const versionFlag = (flag: string, value: string | undefined): string | null | undefined => {
      if (value === undefined) return undefined;
      if (value === 'none') return null;
      if (!isValidVersion(value)) throw invalidInput('release.version', `--${flag}: "${value}" is not a semantic version`);
      return value;
    };
    const minimumVersion = versionFlag('minimum-version', this.flags['minimum-version']);
    const below = versionFlag('deprecate-below', this.flags['deprecate-below']);
    const message = this.flags['deprecation-message'];
    if (below && !message) throw usageError('--deprecate-below needs --deprecation-message', {hint: 'Say what to do, e.g. "svctl < 1.2 cannot deploy to the new clusters: run svctl update".'});
    if (message && below === undefined) throw usageError('--deprecation-message needs --deprecate-below <version>');
    const token = this.ctx.env.BCL_STORE_TOKEN;
    this.ctx.redactor.add(token);
    const store = openStore(location, {http: () => this.ctx.http(), cwd: this.ctx.cwd, headers: token ? {authorization: `Bearer ${token}`} : {}});
    const tools = await publishReleases(
      {
        buildDir: resolve(this.ctx.cwd, this.args.build),
        store,
        channel: settings.update.channel,
        keys,
        ...(this.flags.tool ? {tools: this.flags.tool} : {}),
        expiresInMs: this.flags.expires ?? 30 * 86_400_000,
        ...(minimumVersion !== undefined ? {minimumVersion} : {}),
        ...(below === null ? {deprecation: null} : below ? {deprecation: {below, message: message!}} : {}),
        allowDowngrade: this.flags['allow-downgrade'],
        now: this.ctx.now,
      },
      this.ctx.ui,
    );
    return {store: location, tools};
  }

  protected override renderResult(result: PublishResult, out: ResultWriter): void {
    out.table(result.tools, [
      {header: 'TOOL', get: (t) => t.tool},
      {header: 'VERSION', get: (t) => t.version},
      {header: 'CHANNEL', get: (t) => t.channel},
      {header: 'UPLOADED', get: (t) => `${t.uploaded.length} new, ${t.alreadyThere.length} already there`},
      {header: 'EXPIRES', get: (t) => t.expires},
    ]);
  }
}
