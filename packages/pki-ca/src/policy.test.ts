import {describe, expect, it} from 'vitest';
import {checkRequest, defaultPolicyYaml, issuedSans, parsePolicy, permittedNames, type Policy, profileApproval} from './policy.js';

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('policy', () => {
  it('the default policy is valid: 90-day client and vpn profiles, a server profile, no revocation URLs', () => {
    const policy = parsePolicy(defaultPolicyYaml(['example.com']), 'ca/policy.yaml');
    expect(policy.allowedEmailDomains).toEqual(['example.com']);
    expect(policy.profiles.client).toMatchObject({maxLifetimeDays: 90, extendedKeyUsage: ['clientAuth'], sans: ['email']});
    expect(policy.profiles.server?.extendedKeyUsage).toEqual(['serverAuth']);
    expect(policy.revocation).toEqual({});
    expect(policy.rootCrlValidityDays).toBe(365);
  });

  it('names the file, the line and the key of what is wrong (code policy_invalid)', () => {
    const text = defaultPolicyYaml([]).replace('    maxLifetimeDays: 90\n    sans: [email]\n  vpn', '    maxLifetimeDays: -3\n    sans: [email]\n  vpn');
    const line = text.split('\n').findIndex((l) => l.includes('maxLifetimeDays: -3')) + 1;
    expect(() => parsePolicy(text, 'ca/policy.yaml')).toThrow(new RegExp(`^ca/policy\\.yaml:${line}:22: profiles\\.client\\.maxLifetimeDays: `));
    expect(() => parsePolicy('version: 1\nprofiles: {}\n', 'p.yaml')).toThrow('p.yaml:2:11: profiles: define at least one profile');
    expect(() => parsePolicy('version: [1\n', 'p.yaml')).toThrow(/^p\.yaml:\d+:\d+: not valid YAML/);
    expect(() => parsePolicy(defaultPolicyYaml([]).replace('keyUsage: [digitalSignature]', 'keyUsage: [keyCertSign]'), 'p.yaml')).toThrow(/profiles\.client\.keyUsage\[0\]: expected one of: digitalSignature, .*, got string "keyCertSign"/);
    expect(() => parsePolicy(defaultPolicyYaml([]) + 'extra: 1\n', 'p.yaml')).toThrow(/:\d+:1: extra: unknown key/);
    expect(caught(() => parsePolicy('version: 2\nprofiles: {}\n', 'p.yaml'))).toMatchObject({name: 'PkiCaError', code: 'policy_invalid', kind: 'invalid', details: {file: 'p.yaml', key: 'version'}});
  });

  it('revocation URLs are plain http:// (relying parties fetch CRLs and CA certificates without TLS)', () => {
    const ok = parsePolicy(defaultPolicyYaml([]) + 'revocation:\n  crlUrl: http://pki.example.com/crl.pem\n  ocspUrl: http://ocsp.example.com/\n', 'p.yaml');
    expect(ok.revocation).toEqual({crlUrl: 'http://pki.example.com/crl.pem', ocspUrl: 'http://ocsp.example.com/'});
    expect(() => parsePolicy(defaultPolicyYaml([]) + 'revocation:\n  crlUrl: https://pki.example.com/crl.pem\n', 'p.yaml')).toThrow(/revocation\.crlUrl: expected an http:\/\/ URL/);
    expect(() => parsePolicy(defaultPolicyYaml([]) + 'revocation:\n  crlURL: http://x/\n', 'p.yaml')).toThrow(/crlURL/);
  });

  it('an intermediate is limited to the email domains and, when every DNS profile lists some, the DNS suffixes', () => {
    const base = parsePolicy(defaultPolicyYaml(['Example.com', 'example.org']), 'p.yaml');
    // The default server profile allows any DNS name: DNS stays unconstrained.
    expect(permittedNames(base)).toEqual({dns: [], email: ['example.com', 'example.org']});
    const narrow = parsePolicy(defaultPolicyYaml([]).replace('allowedDnsSuffixes: []', 'allowedDnsSuffixes: [.internal.example.com, lab.example.com]'), 'p.yaml');
    expect(permittedNames(narrow)).toEqual({dns: ['internal.example.com', 'lab.example.com'], email: []});
  });
});

describe('a request against the policy', () => {
  const policy: Policy = parsePolicy(defaultPolicyYaml(['example.com']).replace('allowedDnsSuffixes: []', 'allowedDnsSuffixes: [internal.example.com]'), 'ca/policy.yaml');
  const ann = {email: 'ann@example.com', profile: 'client', keyType: 'ecdsa-p256' as const, sans: []};

  it('issues only the requester\'s own email: any other email name is refused', () => {
    expect(checkRequest(policy, ann, 'request 1', 'ca/policy.yaml').maxLifetimeDays).toBe(90);
    expect(checkRequest(policy, {...ann, sans: [{type: 'email', value: 'ANN@example.com'}]}, 'request 1')).toBeDefined();
    expect(() => checkRequest(policy, {...ann, sans: [{type: 'email', value: 'boss@example.com'}]}, 'request 1')).toThrow(
      "request 1: asks for the email boss@example.com, which is not the requester's (ann@example.com); only the requester's own email is issued",
    );
  });

  it('refuses unknown profiles, outside domains, key types, SAN types and DNS names outside the suffixes', () => {
    expect(() => checkRequest(policy, {...ann, profile: 'root'}, 'request', 'ca/policy.yaml')).toThrow('request: profile "root" is not in ca/policy.yaml (profiles: client, vpn, server)');
    expect(() => checkRequest(policy, {...ann, email: 'eve@evil.org'}, 'request')).toThrow(/eve@evil\.org is not in an allowed domain/);
    expect(() => checkRequest({...policy, keyTypes: ['rsa-3072']}, ann, 'request')).toThrow(/key type ecdsa-p256 is not allowed/);
    expect(() => checkRequest(policy, {...ann, sans: [{type: 'dns', value: 'x.example.com'}]}, 'request')).toThrow('profile client does not allow dns names');
    const server = {...ann, profile: 'server'};
    expect(checkRequest(policy, {...server, sans: [{type: 'dns', value: 'a.internal.example.com'}, {type: 'dns', value: 'internal.example.com'}]}, 'r')).toBeDefined();
    expect(() => checkRequest(policy, {...server, sans: [{type: 'dns', value: 'evilinternal.example.com'}]}, 'r')).toThrow(/outside the DNS suffixes/);
  });

  it('the names issued: the requester\'s email first (profiles with email names), each name once', () => {
    const client = policy.profiles.client!;
    expect(issuedSans(client, 'ann@example.com', [{type: 'email', value: 'Ann@example.com'}])).toEqual([{type: 'email', value: 'ann@example.com'}]);
    expect(issuedSans(policy.profiles.server!, 'ann@example.com', [{type: 'dns', value: 'a.internal.example.com'}])).toEqual([{type: 'dns', value: 'a.internal.example.com'}]);
  });

  it('approval: automatic for the own-email profiles, admin for anything wider; automatic on a wider profile is refused', () => {
    const policy = parsePolicy(defaultPolicyYaml(['example.com']), 'p.yaml');
    expect(profileApproval(policy.profiles.client!)).toBe('automatic');
    expect(profileApproval(policy.profiles.vpn!)).toBe('automatic');
    expect(profileApproval(policy.profiles.server!)).toBe('admin');
    expect(profileApproval({...policy.profiles.client!, approval: 'admin'})).toBe('admin');
    expect(policy.profiles.client!.groups).toEqual([]);
    const wide = defaultPolicyYaml([]).replace('    sans: [dns, ip]\n', '    sans: [dns, ip]\n    approval: automatic\n');
    expect(() => parsePolicy(wide, 'p.yaml')).toThrow(/profiles\.server\.approval: a profile that issues DNS, IP or URI names/);
    expect(() => parsePolicy(defaultPolicyYaml([]).replace('    sans: [dns, ip]\n', '    sans: [dns, ip]\n    groups: [not-an-email]\n'), 'p.yaml')).toThrow(/profiles\.server\.groups\[0\]: expected a group email address/);
  });
});
