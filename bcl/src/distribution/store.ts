import {createHash} from 'node:crypto';
import {createReadStream, createWriteStream, mkdirSync, statSync, readFileSync} from 'node:fs';
import {dirname, isAbsolute, join, resolve} from 'node:path';
import type {Readable} from 'node:stream';
import {BclError, ExitCode, denied, invalidInput, unavailable} from '../errors.js';
import {expectOk, type HttpClient} from '../http/client.js';

/**
 * A release store: a directory, or a static HTTP(S) server (reads need only GET; publishing uses
 * PUT). Paths inside a store are relative ("channels/stable/svctl.json"); artifact URLs in
 * manifests may also be absolute http(s) URLs (a CDN in front of a bucket).
 */
export interface Store {
  readonly kind: 'directory' | 'http';
  /** The store as given by the user, for messages. */
  readonly location: string;
  /** Where a path of the store is, as shown to a person. */
  where(path: string): string;
  /** A small file (a manifest or a signature); undefined when it does not exist and `optional`. */
  read(path: string, options?: {optional?: boolean; maxBytes?: number}): Promise<Buffer | undefined>;
  /** Streams an artifact to `dest`, enforcing its size and returning its sha256. */
  download(url: string, dest: string, expect: {size: number}, progress?: DownloadProgress): Promise<{sha256: string; size: number}>;
  /** Publishes a file (atomically for directories; a PUT for HTTP). */
  write(path: string, data: Buffer | {file: string}): Promise<void>;
  /** The same store, its requests sharing one deadline (epoch ms): an operation's, such as one update. */
  within(deadline: number): Store;
}

export interface DownloadProgress {
  /** Called as bytes arrive (at most every few hundred KiB). */
  onBytes?(received: number, total: number): void | Promise<void>;
}

export interface StoreIo {
  http: () => HttpClient;
  /** Extra request headers (Authorization from BCL_STORE_TOKEN). */
  headers?: Record<string, string>;
  cwd: string;
  /** The operation's deadline (epoch ms) every request shares; see Store.within. */
  deadline?: number;
}

const MANIFEST_LIMIT = 1024 * 1024;

export function isHttpLocation(location: string): boolean {
  return /^https?:\/\//i.test(location);
}

export function openStore(location: string, io: StoreIo): Store {
  if (isHttpLocation(location)) return new HttpStore(location, io);
  if (location.startsWith('file://')) return new DirectoryStore(new URL(location).pathname, location, io);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    throw invalidInput('update.store_invalid', `bcl.update.store: unsupported store "${location}"`, {
      hint: 'Use a directory or an http(s) URL; for an object-store bucket, use its HTTPS endpoint (docs/distribution.md).',
    });
  }
  return new DirectoryStore(isAbsolute(location) ? location : resolve(io.cwd, location), location, io);
}

class DirectoryStore implements Store {
  readonly kind = 'directory' as const;

  constructor(
    private readonly root: string,
    readonly location: string,
    private readonly io: StoreIo,
  ) {}

  where(path: string): string {
    return isHttpLocation(path) ? path : join(this.root, path);
  }

  within(deadline: number): Store {
    return new DirectoryStore(this.root, this.location, {...this.io, deadline});
  }

  async read(path: string, options: {optional?: boolean; maxBytes?: number} = {}): Promise<Buffer | undefined> {
    const file = this.where(path);
    let size: number;
    try {
      size = statSync(file).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        if (options.optional) return undefined;
        throw notFound(file);
      }
      throw unavailable('update.store_unreadable', `cannot read ${file}: ${(error as Error).message}`);
    }
    if (size > (options.maxBytes ?? MANIFEST_LIMIT)) throw tooLarge(file, options.maxBytes ?? MANIFEST_LIMIT);
    return readFileSync(file);
  }

  async download(url: string, dest: string, expect: {size: number}, progress?: DownloadProgress): Promise<{sha256: string; size: number}> {
    if (isHttpLocation(url)) return new HttpStore(url, this.io).download(url, dest, expect, progress);
    const file = this.where(url);
    let stream: Readable;
    try {
      statSync(file);
      stream = createReadStream(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(file);
      throw unavailable('update.store_unreadable', `cannot read ${file}: ${(error as Error).message}`);
    }
    return receive(stream, dest, expect.size, file, progress);
  }

  async write(path: string, data: Buffer | {file: string}): Promise<void> {
    const target = this.where(path);
    try {
      const {writeFileAtomic} = await import('@bcl/files');
      mkdirSync(dirname(target), {recursive: true});
      await writeFileAtomic(target, Buffer.isBuffer(data) ? data : readFileSync(data.file), {mode: 0o644});
    } catch (error) {
      throw unavailable('release.store_write', `cannot write ${target}: ${(error as Error).message}`);
    }
  }
}

class HttpStore implements Store {
  readonly kind = 'http' as const;
  private readonly base: string;

  constructor(
    readonly location: string,
    private readonly io: StoreIo,
  ) {
    this.base = location.endsWith('/') ? location : `${location}/`;
  }

  where(path: string): string {
    return isHttpLocation(path) ? path : new URL(path, this.base).toString();
  }

  within(deadline: number): Store {
    return new HttpStore(this.location, {...this.io, deadline});
  }

  private get deadline(): {deadline?: number} {
    return this.io.deadline === undefined ? {} : {deadline: this.io.deadline};
  }

  async read(path: string, options: {optional?: boolean; maxBytes?: number} = {}): Promise<Buffer | undefined> {
    const url = this.where(path);
    const response = await this.io.http().request(url, {method: 'GET', headers: {...this.io.headers}, ...this.deadline});
    if (response.status === 404) {
      await response.text().catch(() => '');
      if (options.optional) return undefined;
      throw notFound(url, 404);
    }
    await expectOk(response, 'GET');
    const limit = options.maxBytes ?? MANIFEST_LIMIT;
    const length = Number(response.header('content-length'));
    if (Number.isFinite(length) && length > limit) {
      discard(response.body);
      throw tooLarge(url, limit);
    }
    const body = await response.bytes();
    if (body.length > limit) throw tooLarge(url, limit);
    return body;
  }

  async download(url: string, dest: string, expect: {size: number}, progress?: DownloadProgress): Promise<{sha256: string; size: number}> {
    const full = this.where(url);
    // A server that stalled once on a download is not asked again: the deadline would only run out later.
    const response = await this.io.http().request(full, {method: 'GET', headers: {...this.io.headers}, ...this.deadline, retryOnTimeout: false});
    if (response.status === 404) {
      await response.text().catch(() => '');
      throw notFound(full, 404);
    }
    await expectOk(response, 'GET');
    const length = Number(response.header('content-length'));
    if (Number.isFinite(length) && response.header('content-length') !== undefined && length !== expect.size) {
      discard(response.body);
      throw sizeMismatch(full, length, expect.size);
    }
    return receive(response.body, dest, expect.size, full, progress);
  }

  async write(path: string, data: Buffer | {file: string}): Promise<void> {
    const url = this.where(path);
    const body = Buffer.isBuffer(data) ? data : readFileSync(data.file);
    const type = path.endsWith('.json') || path.endsWith('.sig') ? 'application/json' : 'application/gzip';
    const response = await this.io.http().request(url, {method: 'PUT', body, headers: {'content-type': type, ...this.io.headers}});
    await expectOk(response, 'PUT');
    await response.text().catch(() => '');
  }
}

/**
 * Streams `source` into `dest` while hashing. More bytes than expected stop the transfer at once;
 * fewer (a cut connection, a truncated file) are reported with the count received.
 */
async function receive(source: Readable, dest: string, size: number, where: string, progress?: DownloadProgress): Promise<{sha256: string; size: number}> {
  mkdirSync(dirname(dest), {recursive: true});
  const hash = createHash('sha256');
  const out = createWriteStream(dest, {mode: 0o644});
  let received = 0;
  let reported = 0;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      received += chunk.length;
      if (received > size) {
        discard(source);
        throw denied('update.size_mismatch', `size check failed: ${where} sent more than the ${size} bytes the signed manifest says`, {
          hint: 'The file in the store is not the one that was signed; nothing was changed. Tell the release team.',
          details: {url: where, expected: size},
        });
      }
      hash.update(chunk);
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      if (progress?.onBytes && (received - reported >= 256 * 1024 || received === size)) {
        reported = received;
        await progress.onBytes(received, size);
      }
    }
  } catch (error) {
    out.destroy();
    if (error instanceof BclError) throw error;
    throw unavailable('update.download_cut', `download of ${where} was cut off after ${received} of ${size} bytes: ${(error as Error).message}`, {
      hint: 'The connection broke or the server stalled; nothing was changed. Try again.',
      details: {url: where, received, expected: size},
      cause: error,
    });
  }
  await new Promise<void>((resolveEnd, reject) => {
    out.end(() => resolveEnd());
    out.once('error', reject);
  });
  if (received < size) {
    throw denied('update.size_mismatch', `size check failed: ${where} has ${received} bytes, the signed manifest says ${size}`, {
      hint: 'The file in the store is truncated or was replaced; nothing was changed. Tell the release team.',
      details: {url: where, received, expected: size},
    });
  }
  return {sha256: hash.digest('hex'), size: received};
}

/** Stops reading a body we refuse; its abort error has nobody to tell. */
function discard(stream: Readable): void {
  stream.on('error', () => undefined);
  stream.destroy();
}

function notFound(where: string, status?: number): BclError {
  return new BclError('update.not_found', `${where} does not exist${status ? ` (HTTP ${status})` : ''}`, ExitCode.invalid, {
    hint: 'Check bcl.update.store, the channel and the version; `bcl release publish` creates these files.',
    details: {url: where},
  });
}

function tooLarge(where: string, limit: number): BclError {
  return denied('update.manifest_too_large', `${where} is larger than ${limit} bytes, which no manifest is`, {details: {url: where}});
}

function sizeMismatch(where: string, got: number, want: number): BclError {
  return denied('update.size_mismatch', `size check failed: ${where} announces ${got} bytes, the signed manifest says ${want}`, {
    hint: 'The file in the store is not the one that was signed; nothing was changed. Tell the release team.',
    details: {url: where, received: got, expected: want},
  });
}
