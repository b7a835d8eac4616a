import {describe, expect, it} from 'vitest';
import {defaultPolicyYaml, parsePolicy} from './policy.js';

describe('policy.yaml', () => {
  it('the default policy is valid: 90-day client and vpn profiles, a server profile', async () => {
    const policy = await parsePolicy(defaultPolicyYaml(['example.com']), 'ca/policy.yaml');
    expect(policy.allowedEmailDomains).toEqual(['example.com']);
    expect(policy.profiles.client).toMatchObject({maxLifetimeDays: 90, extendedKeyUsage: ['clientAuth'], sans: ['email']});
    expect(policy.profiles.server?.extendedKeyUsage).toEqual(['serverAuth']);
  });

  it('names the file, the line and the key of what is wrong', async () => {
    const text = defaultPolicyYaml([]).replace('    maxLifetimeDays: 90\n    sans: [email]\n  vpn', '    maxLifetimeDays: -3\n    sans: [email]\n  vpn');
    const line = text.split('\n').findIndex((l) => l.includes('maxLifetimeDays: -3')) + 1;
    await expect(parsePolicy(text, 'ca/policy.yaml')).rejects.toThrow(new RegExp(`^ca/policy\\.yaml:${line}:22: profiles\\.client\\.maxLifetimeDays: `));
    await expect(parsePolicy('version: 1\nprofiles: {}\n', 'p.yaml')).rejects.toThrow('p.yaml:2:11: profiles: define at least one profile');
    await expect(parsePolicy('version: [1\n', 'p.yaml')).rejects.toThrow(/^p\.yaml:\d+:\d+: not valid YAML/);
    await expect(parsePolicy(defaultPolicyYaml([]).replace('keyUsage: [digitalSignature]', 'keyUsage: [keyCertSign]'), 'p.yaml')).rejects.toThrow(/profiles\.client\.keyUsage\[0\]: expected one of: digitalSignature, .*, got string "keyCertSign"/);
    await expect(parsePolicy(defaultPolicyYaml([]) + 'extra: 1\n', 'p.yaml')).rejects.toThrow(/:\d+:1: extra: unknown key/);
  });
});
