import {chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync} from 'node:fs';
import {join} from 'node:path';
import {writeSecretFilesSync} from '@bcl/files';
import {compareAsLocale} from '@bcl/core/text';

/**
 * Where csshctl keeps its keys and certificates: $XDG_DATA_HOME/bcl/csshctl/<slot>/, one slot
 * per purpose ("default" for `csshctl cert`, "host-<name>" for `csshctl ssh <name>`):
 *
 *   id               0600  the private key (an ephemeral Ed25519 key, or a symlink to csshctl.sshKey)
 *   id.pub           0600  its public key
 *   id-cert.pub      0600  the certificate (ssh-add loads it beside the key)
 *   certificate.json 0600  what was asked and answered
 */
export interface SlotMeta {
  version: 1;
  slot: string;
  server: string;
  host: string | null;
  serial: string;
  keyId: string;
  principals: string[];
  validAfter: string;
  validBefore: string;
  extensions: string[];
  criticalOptions: Record<string, string>;
  /** The configured key used instead of an ephemeral one. */
  sshKey: string | null;
  issuedAt: string;
}

export interface Slot {
  name: string;
  dir: string;
  keyPath: string;
  publicKeyPath: string;
  certPath: string;
  meta: SlotMeta;
}

export class CertificateStore {
  constructor(readonly root: string) {}

  static slotName(host: string | undefined): string {
    return host ? `host-${host.toLowerCase().replace(/[^a-z0-9.-]/g, '_')}` : 'default';
  }

  private paths(name: string) {
    const dir = join(this.root, name);
    return {dir, keyPath: join(dir, 'id'), publicKeyPath: join(dir, 'id.pub'), certPath: join(dir, 'id-cert.pub'), metaPath: join(dir, 'certificate.json')};
  }

  list(): Slot[] {
    if (!existsSync(this.root)) return [];
    return readdirSync(this.root, {withFileTypes: true})
      .filter((e) => e.isDirectory())
      .map((e) => this.get(e.name))
      .filter((s): s is Slot => s !== undefined)
      .sort((a, b) => compareAsLocale(a.name, b.name));
  }

  get(name: string): Slot | undefined {
    const p = this.paths(name);
    if (!existsSync(p.metaPath) || !existsSync(p.certPath)) return undefined;
    try {
      const meta = JSON.parse(readFileSync(p.metaPath, 'utf8')) as SlotMeta;
      return {name, dir: p.dir, keyPath: p.keyPath, publicKeyPath: p.publicKeyPath, certPath: p.certPath, meta};
    } catch {
      return undefined;
    }
  }

  /**
   * Replaces a slot with a new key and certificate: secret files of @bcl/files (0600 from birth),
   * written together (writeSecretFilesSync), so the key and its certificate are renamed into place
   * one right after the other and ssh never reads a new key beside the old certificate for longer
   * than that; the directories are 0700.
   */
  save(name: string, files: {privateKey?: string; linkTo?: string; publicKey: string; certificate: string}, meta: SlotMeta): Slot {
    mkdirSync(this.root, {recursive: true, mode: 0o700});
    chmodSync(this.root, 0o700);
    const p = this.paths(name);
    mkdirSync(p.dir, {recursive: true, mode: 0o700});
    chmodSync(p.dir, 0o700);
    const secrets: {path: string; data: string}[] = [];
    if (files.privateKey !== undefined) {
      // The slot's own link to csshctl.sshKey gives way to a key of its own (never written through).
      if (isSymlink(p.keyPath)) unlinkSync(p.keyPath);
      secrets.push({path: p.keyPath, data: files.privateKey});
    } else if (files.linkTo !== undefined) {
      if (existsSync(p.keyPath) || isSymlink(p.keyPath)) unlinkSync(p.keyPath);
      symlinkSync(files.linkTo, p.keyPath);
    }
    secrets.push({path: p.publicKeyPath, data: files.publicKey}, {path: p.certPath, data: files.certificate}, {path: p.metaPath, data: `${JSON.stringify(meta, null, 2)}\n`});
    writeSecretFilesSync(secrets);
    return {name, dir: p.dir, keyPath: p.keyPath, publicKeyPath: p.publicKeyPath, certPath: p.certPath, meta};
  }

  remove(name: string): void {
    rmSync(this.paths(name).dir, {recursive: true, force: true});
  }
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
