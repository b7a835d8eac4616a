import {createHash} from 'node:crypto';
import {closeSync, fsyncSync, openSync, readdirSync, readSync, rmSync, statSync, writeSync} from 'node:fs';
import {join} from 'node:path';

/**
 * Writing release tarballs, byte by byte, so the same tree always gives the same bytes: entries
 * sorted by name, one fixed mtime, owner 0:0 with no names, modes normalised to 0755/0644, ustar
 * headers only, and gzip from a pure-JS deflate with no timestamp or OS byte (docs/decisions.md).
 * Clients read them with bcl's extractTarGz.
 */
export interface TarSource {
  /** The path inside the archive ("bin/svctl", "lib/"). */
  path: string;
  type: 'file' | 'dir';
  /** For files: where the bytes are on disk. */
  file?: string;
  executable?: boolean;
}

const BLOCK = 512;
const CHUNK = 1024 * 1024;

/** Every file and directory under `root`, as archive entries (unsorted). */
export function treeEntries(root: string, prefix = ''): TarSource[] {
  const out: TarSource[] = [];
  for (const entry of readdirSync(join(root, prefix), {withFileTypes: true})) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      out.push({path: `${rel}/`, type: 'dir'});
      out.push(...treeEntries(root, rel));
    } else if (entry.isFile()) {
      const mode = statSync(join(root, rel)).mode;
      out.push({path: rel, type: 'file', file: join(root, rel), executable: (mode & 0o111) !== 0});
    } else {
      throw new Error(`${join(root, rel)}: only files and directories go into a release`);
    }
  }
  return out;
}

/** Writes a deterministic .tar.gz; returns its sha256 and size. */
export async function writeTarGz(entries: readonly TarSource[], outFile: string, mtimeSeconds: number): Promise<{sha256: string; size: number}> {
  const {Gzip} = await import('fflate');
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const fd = openSync(outFile, 'w', 0o644);
  const hash = createHash('sha256');
  let size = 0;
  const gzip = new Gzip({level: 6, mtime: 0}, (data) => {
    hash.update(data);
    size += data.length;
    writeSync(fd, data);
  });
  // Fixed-size pushes: deflate's block boundaries then never depend on how files were read.
  let pending = Buffer.alloc(CHUNK);
  let used = 0;
  let tarSize = 0;
  const emit = (bytes: Buffer) => {
    tarSize += bytes.length;
    let offset = 0;
    while (offset < bytes.length) {
      const n = Math.min(CHUNK - used, bytes.length - offset);
      bytes.copy(pending, used, offset, offset + n);
      used += n;
      offset += n;
      if (used === CHUNK) {
        gzip.push(pending);
        pending = Buffer.alloc(CHUNK);
        used = 0;
      }
    }
  };
  try {
    for (const entry of sorted) {
      const size = entry.type === 'file' ? statSync(entry.file!).size : 0;
      emit(ustarHeader(entry, size, mtimeSeconds));
      if (entry.type !== 'file') continue;
      const src = openSync(entry.file!, 'r');
      try {
        const buf = Buffer.alloc(CHUNK);
        let copied = 0;
        for (let n = readSync(src, buf, 0, CHUNK, null); n > 0; n = readSync(src, buf, 0, CHUNK, null)) {
          emit(buf.subarray(0, n));
          copied += n;
        }
        if (copied !== size) throw new Error(`${entry.file} changed while it was archived`);
      } finally {
        closeSync(src);
      }
      const pad = (BLOCK - (size % BLOCK)) % BLOCK;
      if (pad) emit(Buffer.alloc(pad));
    }
    emit(Buffer.alloc(2 * BLOCK));
    const record = 20 * BLOCK;
    const tail = (record - (tarSize % record)) % record;
    if (tail) emit(Buffer.alloc(tail));
    gzip.push(pending.subarray(0, used), true);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(outFile, {force: true});
    throw error;
  }
  closeSync(fd);
  return {sha256: hash.digest('hex'), size};
}

function ustarHeader(entry: TarSource, size: number, mtime: number): Buffer {
  const header = Buffer.alloc(BLOCK);
  let name = entry.path;
  let prefix = '';
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', name.length - 2);
    prefix = cut > 0 ? name.slice(0, cut) : '';
    name = cut > 0 ? name.slice(cut + 1) : name;
    if (Buffer.byteLength(name) > 100 || Buffer.byteLength(prefix) > 155) throw new Error(`${entry.path}: path too long for a ustar archive`);
  }
  const mode = entry.type === 'dir' || entry.executable ? 0o755 : 0o644;
  header.write(name, 0, 100, 'utf8');
  octal(header, 100, 8, mode);
  octal(header, 108, 8, 0);
  octal(header, 116, 8, 0);
  octal(header, 124, 12, size);
  octal(header, 136, 12, mtime);
  header.fill(0x20, 148, 156);
  header.write(entry.type === 'dir' ? '5' : '0', 156, 1, 'ascii');
  header.write('ustar\u000000', 257, 8, 'binary');
  header.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'binary');
  return header;
}

function octal(buf: Buffer, offset: number, length: number, value: number): void {
  buf.write(`${value.toString(8).padStart(length - 1, '0')}\u0000`, offset, length, 'ascii');
}
