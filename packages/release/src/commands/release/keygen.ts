import {existsSync, mkdirSync} from 'node:fs';
import {dirname, resolve} from 'node:path';
import {BclCommand, conflict, Flags, invalidInput, type ResultWriter} from '@bcl/core';
import {checkSecretTarget, writeFileAtomicSync, writeSecretFileSync} from '@bcl/files';

export interface KeygenResult {
  privateKey: string;
  publicKey: string;
  keyid: string;
  /** The line clients add to bcl.update.trustedKeys. */
  trustedKey: string;
}

export default class ReleaseKeygen extends BclCommand<typeof ReleaseKeygen> {
  static override summary = 'Create an Ed25519 key pair for signing releases.';
  static override description =
    'The private key goes to <file> (mode 0600) and never leaves the release machine; the public key goes to <file>.pub. Clients trust it once it is in bcl.update.trustedKeys; several keys may be trusted at once, so a key is rotated by adding the new one first.';
  static override examples = ['<%= config.bin %> release keygen --out ~/.config/bcl/release-key.pem'];
  static override flags = {
    out: Flags.string({summary: 'Where the private key goes; the public key is <out>.pub.', required: true}),
    force: Flags.boolean({summary: 'Replace existing key files.'}),
  };

  async run(): Promise<KeygenResult> {
    const {generateSigningKeyPair} = await import('../../keys.js');
    const file = resolve(this.ctx.cwd, this.flags.out);
    const pub = `${file}.pub`;
    for (const f of [file, pub]) {
      if (existsSync(f) && !this.flags.force) {
        throw conflict('release.key_exists', `${f} already exists`, {hint: 'Choose another --out, or pass --force to replace it (the old key then signs nothing new).'});
      }
    }
    try {
      mkdirSync(dirname(file), {recursive: true});
    } catch (error) {
      throw invalidInput('release.key_path', `--out: cannot create ${dirname(file)}: ${(error as Error).message}`);
    }
    // A symlink or a file others can read at --out is refused before a key exists (@bcl/files' rule).
    checkSecretTarget(file);
    const pair = generateSigningKeyPair();
    this.ctx.redactor.add(pair.privatePem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''));
    writeSecretFileSync(file, pair.privatePem);
    writeFileAtomicSync(pub, pair.publicPem, {mode: 0o644});
    return {privateKey: file, publicKey: pub, keyid: pair.keyid, trustedKey: pair.publicText};
  }

  protected override renderResult(result: KeygenResult, out: ResultWriter): void {
    out.keyValue({'private key': `${result.privateKey} (0600: keep it secret)`, 'public key': result.publicKey, 'key id': result.keyid});
    out.text(`Clients trust it with:\n  bcl config set bcl.update.trustedKeys ${result.trustedKey}`);
  }
}
