import {Args} from '@bcl/core';
import {BclCommand, type ResultWriter} from '@bcl/core';
import type {FetchResult} from '../core/request.js';
import {settingsOf, storeConfigFlags, storeFlags} from '../flags.js';

export default class Fetch extends BclCommand<typeof Fetch> {
  // Changes nothing: still runs on an installed version below its channel's minimumVersion.
  static override allowedBelowMinimumVersion = true;
  static override summary = 'Write an issued certificate and its CA chain beside your local key.';
  static override description =
    'Without an id, fetches your newest request that has no certificate yet. The certificate is checked before it is written: signed by the store\'s CA, and carrying the public key of your local key. Exit 6 while the request waits for approval, 4 when it was rejected.';
  static override examples = ['<%= config.bin %> fetch', '<%= config.bin %> fetch 3f9a1c2b7d --json'];
  static override args = {id: Args.string({description: 'The request id (or a unique prefix).'})};
  static override flags = {...storeFlags};
  static override configFlags = storeConfigFlags;

  async run(): Promise<FetchResult> {
    const settings = settingsOf(this.ctx);
    const {usesServer} = await import('../core/backend.js');
    const fetch = usesServer(this.ctx, settings) ? (await import('../core/server-ops.js')).fetchViaServer : (await import('../core/request.js')).fetchCertificate;
    return fetch(this.ctx, settings, {id: this.args.id});
  }

  protected override renderResult(r: FetchResult, out: ResultWriter): void {
    out.keyValue({id: r.id, serial: r.serial, 'not after': r.notAfter, certificate: r.certPath, chain: r.chainPath, key: r.keyPath});
  }
}
