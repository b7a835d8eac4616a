/** PEM text and DER bytes, in the browser (no Node Buffer). */
import {x509} from './x509.js';

export const toPem = (der: ArrayBuffer | Uint8Array, label: string): string => `${x509.PemConverter.encode(toArrayBuffer(der), label)}\n`;

/** Every DER block of one label in a PEM text, in order. */
export function fromPem(text: string, label: string): ArrayBuffer[] {
  const blocks = text.match(new RegExp(`-----BEGIN ${label}-----[\\s\\S]*?-----END ${label}-----`, 'g')) ?? [];
  return blocks.map((block) => x509.PemConverter.decodeFirst(block));
}

export function toArrayBuffer(bytes: ArrayBuffer | Uint8Array): ArrayBuffer {
  if (bytes instanceof ArrayBuffer) return bytes;
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

export function toBase64(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let text = '';
  for (const b of view) text += String.fromCharCode(b);
  return btoa(text);
}

export const toHex = (bytes: ArrayBuffer): string => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('');
