/**
 * Name constraints (RFC 5280 4.2.1.10): written into an intermediate from the policy, and checked
 * before a leaf is signed, so a CA never issues a certificate its own issuer's constraints make
 * unusable. Only DNS and email subtrees are written; all permitted/excluded DNS, email and IP
 * subtrees are honoured when checking.
 */
import {AsnConvert} from '@peculiar/asn1-schema';
import {GeneralName, GeneralSubtree, GeneralSubtrees, id_ce_nameConstraints, NameConstraints} from '@peculiar/asn1-x509';
import {refused} from './errors.js';
import type {PermittedNames, San} from './policy.js';
import {x509} from './webcrypto.js';

/** The critical nameConstraints extension permitting the given names, or undefined when there are none. */
export function nameConstraintsExtension(names: PermittedNames): x509.Extension | undefined {
  const subtrees = [...names.dns.map((d) => new GeneralName({dNSName: d})), ...names.email.map((e) => new GeneralName({rfc822Name: e}))].map((base) => new GeneralSubtree({base}));
  if (subtrees.length === 0) return undefined;
  const value = new NameConstraints({permittedSubtrees: new GeneralSubtrees(subtrees)});
  return new x509.Extension(id_ce_nameConstraints, true, AsnConvert.serialize(value));
}

interface Subtrees {
  dns: string[];
  email: string[];
  /** As CIDR text ("10.0.0.0/8"; IPv6 too). */
  ip: string[];
}

export interface IssuerConstraints {
  permitted: Subtrees;
  excluded: Subtrees;
}

function subtreesOf(list: GeneralSubtrees | undefined): Subtrees {
  const out: Subtrees = {dns: [], email: [], ip: []};
  for (const s of list ?? []) {
    if (s.base.dNSName !== undefined) out.dns.push(s.base.dNSName.toLowerCase());
    else if (s.base.rfc822Name !== undefined) out.email.push(s.base.rfc822Name.toLowerCase());
    else if (s.base.iPAddress !== undefined) out.ip.push(String(s.base.iPAddress));
  }
  return out;
}

/** The name constraints a CA certificate carries, or undefined when it has none. */
export function constraintsOf(cert: x509.X509Certificate): IssuerConstraints | undefined {
  const ext = cert.getExtension(id_ce_nameConstraints);
  if (!ext) return undefined;
  const nc = AsnConvert.parse(ext.value, NameConstraints);
  return {permitted: subtreesOf(nc.permittedSubtrees), excluded: subtreesOf(nc.excludedSubtrees)};
}

function dnsMatches(name: string, constraint: string): boolean {
  const n = name.toLowerCase().replace(/^\*\./, 'wildcard.');
  if (constraint.startsWith('.')) return n.endsWith(constraint);
  return n === constraint || n.endsWith(`.${constraint}`);
}

function emailMatches(address: string, constraint: string): boolean {
  const a = address.toLowerCase();
  if (constraint.includes('@')) return a === constraint;
  const host = a.slice(a.lastIndexOf('@') + 1);
  return constraint.startsWith('.') ? host.endsWith(constraint) : host === constraint;
}

const ipv4 = (text: string): number | undefined => {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  return m && m.slice(1).every((o) => Number(o) < 256) ? m.slice(1).reduce((acc, o) => acc * 256 + Number(o), 0) : undefined;
};

/** IPv4 CIDR matching; an IPv6 name or constraint never matches (fails closed). */
function ipMatches(ip: string, cidr: string): boolean {
  const [net, bits] = cidr.split('/');
  const a = ipv4(ip);
  const n = ipv4(net ?? '');
  const prefix = Number(bits);
  if (a === undefined || n === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) return false;
  const size = 2 ** (32 - prefix);
  return Math.floor(a / size) === Math.floor(n / size);
}

/** Refuses names outside the issuer's name constraints (code name_constraints). */
export function checkNameConstraints(constraints: IssuerConstraints | undefined, sans: readonly San[], where: string): void {
  if (!constraints) return;
  const {permitted, excluded} = constraints;
  for (const san of sans) {
    const [ok, banned] =
      san.type === 'dns'
        ? [permitted.dns.length === 0 || permitted.dns.some((c) => dnsMatches(san.value, c)), excluded.dns.some((c) => dnsMatches(san.value, c))]
        : san.type === 'email'
          ? [permitted.email.length === 0 || permitted.email.some((c) => emailMatches(san.value, c)), excluded.email.some((c) => emailMatches(san.value, c))]
          : san.type === 'ip'
            ? [permitted.ip.length === 0 || permitted.ip.some((c) => ipMatches(san.value, c)), excluded.ip.some((c) => !c.includes('.') || ipMatches(san.value, c))]
            : [true, false];
    if (!ok || banned) {
      const allowed = san.type === 'dns' ? permitted.dns : san.type === 'email' ? permitted.email : [];
      throw refused('name_constraints', `${where}: ${san.type}:${san.value} is outside the issuing CA's name constraints${allowed.length ? ` (it may sign ${allowed.join(', ')})` : ''}`, {
        hint: 'The intermediate CA was made for other names; change the request, or make a new intermediate for the new policy.',
        details: {san: `${san.type}:${san.value}`},
      });
    }
  }
}
