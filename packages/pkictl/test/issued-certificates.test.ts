import {X509Certificate} from 'node:crypto';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {type LintFinding, type PkilintCheck, pkilint, repoRoot, zlint} from '@bcl/testkit';
import {git, openssl, type Pki, setupPki} from './support.js';
import {LINT_ALLOW_LIST} from './lint-allow-list.js';

/**
 * What pkictl signs, for a single-tier and a two-tier CA, certificates of every profile and key
 * type: key usage by algorithm, names, revocation pointers and lifetimes as a user would see them
 * with openssl, and what the field's own linters (zlint, DigiCert's pkilint) say about the
 * certificates and CRLs: any finding outside the documented allow-list fails.
 */
const POLICY = `version: 1
allowedEmailDomains: [example.com]
approvers: []
keyTypes: [ecdsa-p256, rsa-3072, ed25519]
crlValidityDays: 7
revocation:
  crlUrl: http://pki.example.com/crl.pem
  caCertUrl: http://pki.example.com/ca.pem
  rootCrlUrl: http://pki.example.com/root-crl.pem
  rootCertUrl: http://pki.example.com/root.pem
profiles:
  client:
    keyUsage: [digitalSignature]
    extendedKeyUsage: [clientAuth]
    maxLifetimeDays: 90
    sans: [email]
  vpn:
    keyUsage: [digitalSignature, keyAgreement]
    extendedKeyUsage: [clientAuth]
    maxLifetimeDays: 90
    sans: [email]
  server:
    keyUsage: [digitalSignature, keyEncipherment]
    extendedKeyUsage: [serverAuth]
    maxLifetimeDays: 397
    sans: [dns, ip]
    allowedDnsSuffixes: [internal.example.com]
`;

const KEY_TYPES = ['ecdsa-p256', 'rsa-3072', 'ed25519'] as const;
const PROFILES: Record<string, string[]> = {client: [], vpn: [], server: ['--dns', 'build.internal.example.com', '--dns', 'ci.internal.example.com']};

function unexpected(findings: LintFinding[]): string[] {
  return findings.filter((f) => !(f.rule in LINT_ALLOW_LIST)).map((f) => `${f.linter} ${f.severity} ${f.rule} in ${f.file}${f.where ? ` (${f.where})` : ''}`);
}

for (const shape of [
  {name: 'single-tier CA (ECDSA P-256)', intermediate: false, keyType: 'ecdsa-p256'},
  {name: 'two-tier CA (RSA-3072 root and intermediate)', intermediate: true, keyType: 'rsa-3072'},
]) {
  describe(`certificates and CRLs of a ${shape.name}`, () => {
    let pki: Pki;
    const files = {root: '', issuer: '', leaves: [] as string[], crls: [] as string[], rootCrl: null as string | null};
    let issued: {serial: string; profile: string; file: string}[] = [];

    beforeAll(async () => {
      pki = await setupPki({intermediate: shape.intermediate, keyType: shape.keyType, policy: POLICY});
      const ann = pki.person('ann@example.com');
      const requests: string[][] = [];
      for (const [profile, extra] of Object.entries(PROFILES)) for (const keyType of KEY_TYPES) requests.push(['--profile', profile, '--key-type', keyType, ...extra]);
      // A server certificate with IP names only: no common name, a critical SAN.
      requests.push(['--profile', 'server', '--ip', '10.1.2.3']);
      for (const args of requests) {
        const res = await ann.pk(['request', ...args]);
        if (res.exitCode !== 0) throw new Error(`request ${args.join(' ')}: ${res.stdout}${res.stderr}`);
      }
      const approved = await pki.admin.pk(['approve', '--all', ...pki.adminFlags]);
      if (approved.exitCode !== 0) throw new Error(`approve: ${approved.stdout}${approved.stderr}`);
      const rows = approved.json().result as {serial: string; profile: string}[];
      expect(rows).toHaveLength(requests.length);
      // A CRL with an entry.
      const revoked = await pki.admin.pk(['revoke', rows[0]!.serial, '--reason', 'keyCompromise', ...pki.adminFlags]);
      if (revoked.exitCode !== 0) throw new Error(`revoke: ${revoked.stdout}${revoked.stderr}`);
      const save = (name: string, path: string) => {
        const file = join(pki.dir, name);
        writeFileSync(file, git(['show', `main:${path}`], pki.store));
        return file;
      };
      files.root = save('root.pem', 'ca/root.pem');
      files.issuer = shape.intermediate ? save('intermediate.pem', 'ca/intermediate.pem') : files.root;
      files.leaves = rows.map((r, i) => save(`leaf-${i}-${r.profile}.pem`, `certs/${r.serial}.pem`));
      issued = rows.map((r, i) => ({...r, file: files.leaves[i]!}));
      files.crls = [save('crl.pem', 'crl/crl.pem')];
      files.rootCrl = shape.intermediate ? save('root-crl.pem', 'crl/root.pem') : null;
    });
    afterAll(() => pki?.remove());

    it('key usage follows the key\'s algorithm; a server certificate is named after its first DNS name', () => {
      const expected: Record<string, Record<string, string>> = {
        client: {ec: 'Digital Signature', rsa: 'Digital Signature', ed25519: 'Digital Signature'},
        vpn: {ec: 'Digital Signature, Key Agreement', rsa: 'Digital Signature', ed25519: 'Digital Signature'},
        server: {ec: 'Digital Signature', rsa: 'Digital Signature, Key Encipherment', ed25519: 'Digital Signature'},
      };
      const seen = new Set<string>();
      for (const leaf of issued) {
        const text = openssl(['x509', '-in', leaf.file, '-noout', '-text', '-subject', '-nameopt', 'RFC2253']).out;
        const alg = new X509Certificate(readFileSync(leaf.file)).publicKey.asymmetricKeyType!;
        seen.add(`${leaf.profile}/${alg}`);
        const usage = /X509v3 Key Usage: critical\n\s*(.+)\n/.exec(text)?.[1];
        expect(usage, `${leaf.profile} ${alg}`).toBe(expected[leaf.profile]![alg]);
        const subject = /^subject=(.*)$/m.exec(text)?.[1]?.trim();
        if (leaf.profile !== 'server') expect(subject).toBe('CN=ann@example.com');
        else if (text.includes('DNS:')) {
          expect(subject).toBe('CN=build.internal.example.com');
          expect(text).toContain('DNS:build.internal.example.com, DNS:ci.internal.example.com');
        } else {
          // IP names only: no common name at all, and the names are then a critical extension.
          expect(subject).toBe('');
          expect(text).toMatch(/X509v3 Subject Alternative Name: critical\n\s*IP Address:10\.1\.2\.3/);
        }
        // The requester of a server certificate is in the store's records, not in the certificate.
        if (leaf.profile === 'server') expect(text).not.toContain('ann@example.com');
      }
      expect(seen.size).toBe(9);
    });

    it('the policy\'s revocation URLs are in every leaf and in the intermediate; the lifetime is the maximum, backdate included', () => {
      for (const leaf of issued) {
        const text = openssl(['x509', '-in', leaf.file, '-noout', '-text']).out;
        expect(text).toMatch(/CRL Distribution Points:\s*\n\s*Full Name:\s*\n\s*URI:http:\/\/pki\.example\.com\/crl\.pem/);
        expect(text).toContain('CA Issuers - URI:http://pki.example.com/ca.pem');
        const cert = new X509Certificate(readFileSync(leaf.file));
        // RFC 5280 counts notBefore through notAfter inclusive: exactly the profile's maximum.
        const seconds = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 1000 + 1;
        expect(seconds / 86_400, leaf.profile).toBe(leaf.profile === 'server' ? 397 : 90);
      }
      const rootText = openssl(['x509', '-in', files.root, '-noout', '-text']).out;
      expect(rootText).not.toContain('CRL Distribution Points');
      if (shape.intermediate) {
        const text = openssl(['x509', '-in', files.issuer, '-noout', '-text']).out;
        expect(text).toMatch(/URI:http:\/\/pki\.example\.com\/root-crl\.pem/);
        expect(text).toContain('CA Issuers - URI:http://pki.example.com/root.pem');
        // Name constraints from the policy: the server profile's DNS suffix and the email domain.
        expect(text).toMatch(/X509v3 Name Constraints: critical\n\s*Permitted:\n\s*DNS:internal\.example\.com\n\s*email:example\.com/);
      }
    });

    it('zlint: no finding outside the allow-list, certificates and CRLs', async () => {
      const findings = await zlint([files.root, ...(shape.intermediate ? [files.issuer] : []), ...files.leaves, ...files.crls]);
      // The root's CRL lists CA certificates: zlint is told so (its 10-day rule is for CRLs of leaves).
      if (files.rootCrl) findings.push(...(await zlint([files.rootCrl], {config: '[e_crl_next_update_invalid]\nSubscriberCRL = false\n'})));
      expect(unexpected(findings)).toEqual([]);
    });

    it('pkilint: no finding outside the allow-list (RFC 5280 certificates, issuer/subject pairs, CRLs)', async () => {
      const checks: PkilintCheck[] = [
        ...[files.root, ...(shape.intermediate ? [files.issuer] : []), ...files.leaves].map((file) => ({kind: 'cert' as const, file})),
        ...files.leaves.map((subject) => ({kind: 'chain' as const, issuer: files.issuer, subject})),
        ...(shape.intermediate ? [{kind: 'chain' as const, issuer: files.root, subject: files.issuer}] : []),
        ...files.crls.map((file) => ({kind: 'crl' as const, file})),
        ...(files.rootCrl ? [{kind: 'crl' as const, file: files.rootCrl, type: 'ARL' as const}] : []),
      ];
      expect(unexpected(await pkilint(checks))).toEqual([]);
    });
  });
}

describe('the linters and their allow-list', () => {
  it('both linters find what they should in a certificate made wrong on purpose (openssl: keyEncipherment on an EC key)', async () => {
    const {tempDir} = await import('@bcl/testkit');
    const {execFileSync} = await import('node:child_process');
    const dir = tempDir('pkictl-lint-bad-');
    try {
      const cert = join(dir.path, 'bad.pem');
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir.path, 'bad.key'), '-out', cert, '-days', '30',
        '-subj', '/CN=bad.example.com', '-addext', 'basicConstraints=critical,CA:FALSE', '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment',
        '-addext', 'extendedKeyUsage=serverAuth', '-addext', 'subjectAltName=DNS:bad.example.com',
      ], {stdio: 'ignore'});
      expect(unexpected(await zlint([cert])).join('\n')).toContain('e_ecdsa_allowed_ku');
      expect(unexpected(await pkilint([{kind: 'cert', file: cert}])).join('\n')).toContain('pkix.key_usage_value_prohibited_for_ec');
    } finally {
      dir.remove();
    }
  });


  it('every entry has its reason in docs/testing.md', () => {
    const doc = readFileSync(join(repoRoot, 'docs', 'testing.md'), 'utf8');
    const missing = Object.keys(LINT_ALLOW_LIST).filter((rule) => !doc.includes(`\`${rule}\``));
    expect(missing).toEqual([]);
  });
});
