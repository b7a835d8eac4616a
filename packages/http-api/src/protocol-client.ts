// The client side of protocol negotiation, without Fastify or zod: CLIs import it as
// `@bcl/http-api/protocol-client`.

/** Request header naming the client and its version: `svctl/1.8.2`. */
export const CLIENT_HEADER = 'bcl-client';
/** Request header with the protocol versions the client speaks: `2-4` (or `3`). */
export const PROTOCOL_HEADER = 'bcl-protocol';
/** Response header with the protocol version the server answered in. */
export const PROTOCOL_RESPONSE_HEADER = 'bcl-protocol';

/** The headers every request of a BCL client carries. */
export function protocolHeaders(client: {name: string; version: string; protocol: {min: number; max: number}}): Record<string, string> {
  const range = client.protocol.min === client.protocol.max ? String(client.protocol.min) : `${client.protocol.min}-${client.protocol.max}`;
  return {[CLIENT_HEADER]: `${client.name}/${client.version}`, [PROTOCOL_HEADER]: range};
}

/**
 * The texts of `Warning: 299 <agent> "<text>"` header values (several may be comma-joined), for
 * a client that prints deprecations once on stderr. Other warn codes are ignored.
 */
export function warningTexts(header: string | string[] | null | undefined): string[] {
  const values = header === null || header === undefined ? [] : Array.isArray(header) ? header : [header];
  const out: string[] = [];
  for (const value of values) {
    for (const m of value.matchAll(/(?:^|,)\s*299\s+\S+\s+"((?:[^"\\]|\\.)*)"/g)) out.push(JSON.parse(`"${m[1]}"`) as string);
  }
  return out;
}
