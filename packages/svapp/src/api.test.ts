import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {capabilitiesOf, CAPABILITIES_BY_PROTOCOL, PROTOCOL, protocolOf} from './api.js';

describe('the client entry of svapp (@bcl/svapp/api)', () => {
  it('imports nothing: svctl loads it without any server code', () => {
    const source = readFileSync(new URL('./api.ts', import.meta.url), 'utf8');
    expect(source.match(/^\s*(import|export .* from)\b/gm) ?? []).toEqual([]);
  });

  it('says which protocol brought each capability, and a server of protocol N has all of 1..N', () => {
    expect(capabilitiesOf(1)).toEqual(CAPABILITIES_BY_PROTOCOL[1]);
    expect(capabilitiesOf(PROTOCOL.current)).toEqual(expect.arrayContaining(['deploy', 'can-i', 'approvals']));
    expect(protocolOf('can-i')).toBe(2);
    expect(protocolOf('deploy')).toBe(1);
  });
});
