// Helpers of the svapp tests against the local control plane: the server's event log of an
// operation read as svctl would, and the lines svctl prints for it off a terminal (the same
// rules as its progress board: one timestamped line per task event, warnings and notices).
import {readFileSync} from 'node:fs';
import {request as httpsRequest} from 'node:https';
import {parseEventStream} from '@bcl/http-api/sse-client';

export interface Credentials {
  url: string;
  ca: string;
  cert: string;
  key: string;
}

/** The credentials a test's svctl uses (from its config file). */
export function credentialsOf(configFile: string): Credentials {
  const text = readFileSync(configFile, 'utf8');
  const get = (re: RegExp) => re.exec(text)![1]!;
  return {url: get(/url: (\S+)/), ca: get(/ca: (\S+)/), cert: get(/cert: ([^,}\s]+)/), key: get(/key: ([^,}\s]+)/)};
}

export function call(c: Credentials, method: string, path: string, options: {json?: unknown; headers?: Record<string, string>; url?: string} = {}): Promise<{status: number; body: any; raw: import('node:http').IncomingMessage}> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${options.url ?? c.url}${path}`, {method, ca: readFileSync(c.ca), cert: readFileSync(c.cert), key: readFileSync(c.key), agent: false, headers: {'bcl-client': 'svctl/0.1.0', 'bcl-protocol': '1-2', ...(options.json !== undefined ? {'content-type': 'application/json'} : {}), ...options.headers}}, async (res) => {
      if ((res.headers['content-type'] ?? '').startsWith('text/event-stream')) return resolve({status: res.statusCode ?? 0, body: undefined, raw: res});
      const text = await new Response(res as unknown as ReadableStream).text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON
      }
      resolve({status: res.statusCode ?? 0, body, raw: res});
    });
    req.on('error', reject);
    req.end(options.json === undefined ? undefined : JSON.stringify(options.json));
  });
}

export interface LoggedEvent {
  seq: number;
  type: string;
  data: Record<string, any>;
}

/** The whole event log of an operation (it must have ended). */
export async function eventLog(c: Credentials, id: string): Promise<LoggedEvent[]> {
  const r = await call(c, 'GET', `/v1/operations/${id}/events`);
  if (r.status !== 200) throw new Error(`events of ${id}: ${r.status}`);
  const out: LoggedEvent[] = [];
  for await (const e of parseEventStream(r.raw)) out.push({seq: Number(e.id), type: e.event, data: JSON.parse(e.data)});
  return out;
}

/**
 * What svctl prints off a terminal (no --verbose) for these events: each task event a line
 * `<when svapp recorded it> <task>: [done: |FAILED: ]<text>`, warnings as `Warning: ...`,
 * notices as they are, log text as it came.
 */
export function printedLines(events: readonly LoggedEvent[]): string {
  const last = new Map<string, string>();
  let out = '';
  for (const {type, data} of events) {
    if (type === 'task-started' || type === 'task-progress') {
      last.set(data.task, data.text);
      out += `${data.at} ${data.task}: ${data.text}\n`;
    } else if (type === 'task-finished') {
      out += `${data.at} ${data.task}: ${data.ok ? 'done: ' : 'FAILED: '}${data.text ?? last.get(data.task)}\n`;
    } else if (type === 'warning' || type === 'taken-over') out += `Warning: ${data.message}\n`;
    else if (type === 'notice') out += `${data.message}\n`;
    else if (type === 'log') out += data.text;
  }
  return out;
}

/** The operations svapp knows, newest first. */
export async function operations(c: Credentials): Promise<{id: string; state: string; kind: string; services: string[]; runner: string | null}[]> {
  return (await call(c, 'GET', '/v1/operations?limit=50')).body.operations;
}
