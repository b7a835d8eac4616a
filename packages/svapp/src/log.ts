/** svapp's own log: one JSON line per message on stderr (the audit log goes to stdout). */
export interface Log {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export function jsonLog(write: (line: string) => unknown = (l) => process.stderr.write(l), now: () => Date = () => new Date()): Log {
  const line = (level: string) => (msg: string, fields: Record<string, unknown> = {}) => void write(`${JSON.stringify({level, time: now().toISOString(), msg, ...fields})}\n`);
  return {info: line('info'), warn: line('warn'), error: line('error')};
}

export const silentLog: Log = {info: () => undefined, warn: () => undefined, error: () => undefined};
