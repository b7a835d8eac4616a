import {describe, expect, it} from 'vitest';
import {positionalArgs, takeCertProfile} from './flags.js';

describe('argv helpers', () => {
  it('takes --profile (the certificate profile) out of argv, in both spellings', () => {
    const argv = ['--email', 'a@example.com', '--profile', 'vpn', '--json'];
    expect(takeCertProfile(argv)).toBe('vpn');
    expect(argv).toEqual(['--email', 'a@example.com', '--json']);
    const eq = ['--profile=server', '--dns', 'x'];
    expect(takeCertProfile(eq)).toBe('server');
    expect(eq).toEqual(['--dns', 'x']);
    const none = ['--json', '--', '--profile', 'x'];
    expect(takeCertProfile(none)).toBeUndefined();
    expect(none).toHaveLength(4);
  });

  it('finds the ids among flags and their values', () => {
    const defs = {'ca-key': {type: 'option'}, all: {type: 'boolean'}, json: {type: 'boolean'}, verbose: {type: 'boolean', char: 'v'}, config: {type: 'option'}};
    expect(positionalArgs(['abcd', '--ca-key', 'k.pem', 'ef01', '--json', '-v', '--config', 'c.yaml', '1234'], defs)).toEqual(['abcd', 'ef01', '1234']);
    expect(positionalArgs(['--ca-key=k.pem', 'abcd', '--', '--odd'], defs)).toEqual(['abcd', '--odd']);
  });
});
