import {mkdirSync} from 'node:fs';
import {type FileHandle, open} from 'node:fs/promises';
import {dirname} from 'node:path';

/**
 * A JSON-lines file only ever appended to (O_APPEND, one write per line, in order): the audit
 * log and the ledger of issued certificates. `append` resolves once the line is written, so a
 * certificate is handed out only after its audit line exists.
 */
export class AppendLog {
  private tail: Promise<void> = Promise.resolve();

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  static async open(path: string, mode = 0o600): Promise<AppendLog> {
    mkdirSync(dirname(path), {recursive: true, mode: 0o700});
    return new AppendLog(path, await open(path, 'a', mode));
  }

  append(record: Record<string, unknown>): Promise<void> {
    const line = `${JSON.stringify(record)}\n`;
    const next = this.tail.then(async () => {
      await this.handle.write(line);
    });
    // A failed write fails its caller; later lines still try.
    this.tail = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    await this.tail;
    await this.handle.sync().catch(() => undefined);
    await this.handle.close();
  }
}
