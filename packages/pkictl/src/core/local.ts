/** The requester's own credentials on this machine: finding one by request id, marking a renewed one. */
import {invalidInput} from '@bcl/core';
import {credentialPaths, listCredentials, type LocalCredential, readMeta, writeMeta} from '@bcl/pki-local';
import {localCredentialsDir, type PkiIo} from './io.js';

/** The local credential for a request id (or unique prefix); the newest waiting one when no id is given. */
export function localCredential(io: PkiIo, id?: string): LocalCredential {
  const all = listCredentials({env: io.env, now: io.now()});
  if (id === undefined) {
    const waiting = all.find((c) => c.state === 'pending') ?? all[0];
    if (!waiting) throw invalidInput('pkictl.no_local_request', 'there is no certificate request on this machine', {hint: 'Request one with `pkictl request`.'});
    return waiting;
  }
  const want = id.trim().toLowerCase();
  const matches = all.filter((c) => c.id === want || (want.length >= 4 && c.id.startsWith(want)));
  const exact = matches.find((c) => c.id === want);
  if (exact) return exact;
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) throw invalidInput('pkictl.request_ambiguous', `request id "${id}" matches ${matches.length} local requests`, {hint: 'Give more characters of the id.'});
  throw invalidInput('pkictl.no_local_key', `no key for request "${id}" on this machine (${localCredentialsDir(io)})`, {
    hint: 'Fetch on the machine that made the request: the private key never leaves it.',
    details: {id},
  });
}

/** The credential of a renewed certificate remembers what superseded it. */
export function markSuperseded(io: PkiIo, oldSerial: string, newSerial: string): void {
  for (const c of listCredentials({env: io.env, now: io.now()})) {
    if (c.serial !== oldSerial) continue;
    const paths = credentialPaths(localCredentialsDir(io), c.id);
    writeMeta(paths, {...readMeta(paths), supersededBy: newSerial});
  }
}

