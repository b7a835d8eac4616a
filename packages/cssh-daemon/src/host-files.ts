import {decodeKrl, fingerprint, parsePublicKey} from '@bcl/openssh-formats';
import {type AuthzHttp, refusal} from './client.js';

/** How the daemon touches the host's files (the real ones, or a test's directory). */
export interface FileIo {
  read(path: string): Buffer | undefined;
  write(path: string, data: string | Buffer, mode: number): void;
}

export class RefusedAnswer extends Error {
  override readonly name = 'RefusedAnswer';
}

/**
 * Keeps sshd's RevokedKeys file: a conditional GET (If-None-Match with the last ETag), a KRL
 * that decodes and is not older than the one the host has (an older KRL would un-revoke), then
 * an atomic replace. Anything else leaves the file as it was.
 */
export async function refreshKrl(http: AuthzHttp, io: FileIo, path: string, last: {etag: string | null; krlVersion: number | null}): Promise<{changed: boolean; etag: string | null; krlVersion: number}> {
  const current = io.read(path);
  const currentVersion = current ? versionOf(current) : undefined;
  const floor = Math.max(last.krlVersion ?? -1, currentVersion ?? -1);
  const conditional: Record<string, string> = current && currentVersion !== undefined && last.etag ? {'if-none-match': last.etag} : {};
  const answer = await http.get('/v1/krl', conditional);
  if (answer.status === 304) return {changed: false, etag: last.etag, krlVersion: floor};
  if (answer.status !== 200) throw new RefusedAnswer(refusal('/v1/krl', answer));
  const version = versionOf(answer.body);
  if (version === undefined) throw new RefusedAnswer('GET /v1/krl answered something that is not an OpenSSH KRL; kept the current file');
  if (version < floor) throw new RefusedAnswer(`GET /v1/krl answered KRL version ${version}, older than version ${floor} on this host; kept the current file (an older KRL would un-revoke certificates)`);
  const etag = typeof answer.headers.etag === 'string' ? answer.headers.etag : null;
  if (current?.equals(answer.body)) return {changed: false, etag, krlVersion: version};
  io.write(path, answer.body, 0o644);
  return {changed: true, etag, krlVersion: version};
}

function versionOf(data: Buffer): number | undefined {
  try {
    return Number(decodeKrl(data).version);
  } catch {
    return undefined;
  }
}

/**
 * Keeps sshd's TrustedUserCAKeys file: every line the service serves must be an SSH public key,
 * and there must be at least one; else the file stays as it was (never emptied by an error).
 */
export async function refreshCaKeys(http: AuthzHttp, io: FileIo, path: string): Promise<{changed: boolean; keys: string[]}> {
  const answer = await http.get('/v1/ca.pub');
  if (answer.status !== 200) throw new RefusedAnswer(refusal('/v1/ca.pub', answer));
  const lines = answer.body
    .toString('utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length === 0) throw new RefusedAnswer('GET /v1/ca.pub answered no CA key; kept the current file');
  const keys: string[] = [];
  for (const line of lines) {
    try {
      keys.push(fingerprint(parsePublicKey(line).blob));
    } catch (error) {
      throw new RefusedAnswer(`GET /v1/ca.pub answered a line that is not an SSH public key (${(error as Error).message}); kept the current file`);
    }
  }
  const content = `${lines.join('\n')}\n`;
  if (io.read(path)?.toString('utf8') === content) return {changed: false, keys};
  io.write(path, content, 0o644);
  return {changed: true, keys};
}
