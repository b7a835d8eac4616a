/** A request against the policy: identity, profile, key type and names, before anything is signed. */
import type {KeyType} from '@bcl/pki-local';
import {invalid, refused} from './errors.js';
import type {Policy, Profile, San} from './policy.js';

export interface RequestFacts {
  /** The requester's verified (or, in the Git store, recorded) email. */
  email: string;
  profile: string;
  keyType: KeyType;
  /** The names asked for beyond the requester's own email. */
  sans: San[];
}

/** Whether a DNS name is one of the suffixes or below one (a leading dot is ignored). */
function underSuffix(name: string, suffixes: readonly string[]): boolean {
  const n = name.toLowerCase();
  return suffixes.some((s) => {
    const suffix = s.replace(/^\./, '').toLowerCase();
    return n === suffix || n.endsWith(`.${suffix}`);
  });
}

/**
 * Checks a request against the policy and returns its profile. `where` names the request in
 * messages ("request 1a2b"); `policyFile` names the policy ("ca/policy.yaml"). An email name
 * other than the requester's own is refused: nobody gets a certificate for someone else's address.
 */
export function checkRequest(policy: Policy, r: RequestFacts, where: string, policyFile = 'the policy'): Profile {
  const profile = policy.profiles[r.profile];
  if (!profile) {
    throw invalid('profile_unknown', `${where}: profile "${r.profile}" is not in ${policyFile} (profiles: ${Object.keys(policy.profiles).join(', ')})`, {details: {profile: r.profile}});
  }
  const domain = r.email.split('@')[1]?.toLowerCase() ?? '';
  if (policy.allowedEmailDomains.length && !policy.allowedEmailDomains.some((d) => d.toLowerCase() === domain)) {
    throw refused('policy_denied', `${where}: the email ${r.email} is not in an allowed domain (${policy.allowedEmailDomains.join(', ')}, from ${policyFile})`, {details: {email: r.email}});
  }
  if (!policy.keyTypes.includes(r.keyType)) {
    throw refused('policy_denied', `${where}: key type ${r.keyType} is not allowed by ${policyFile} (allowed: ${policy.keyTypes.join(', ')})`, {details: {keyType: r.keyType}});
  }
  for (const san of r.sans) {
    if (!profile.sans.includes(san.type)) {
      throw refused('policy_denied', `${where}: profile ${r.profile} does not allow ${san.type} names (${san.value}); it allows ${profile.sans.join(', ') || 'none'}`, {details: {san: `${san.type}:${san.value}`}});
    }
    if (san.type === 'email' && san.value.toLowerCase() !== r.email.toLowerCase()) {
      throw refused('policy_denied', `${where}: asks for the email ${san.value}, which is not the requester's (${r.email}); only the requester's own email is issued`, {
        details: {san: `email:${san.value}`},
      });
    }
    if (san.type === 'dns' && profile.allowedDnsSuffixes.length && !underSuffix(san.value, profile.allowedDnsSuffixes)) {
      throw refused('policy_denied', `${where}: ${san.value} is outside the DNS suffixes allowed for profile ${r.profile} (${profile.allowedDnsSuffixes.join(', ')})`, {details: {san: `dns:${san.value}`}});
    }
  }
  return profile;
}

/**
 * The names a certificate of this profile carries: the requester's email first (when the profile
 * issues email names), then the other names asked for, each once.
 */
export function issuedSans(profile: Profile, email: string, extra: readonly San[]): San[] {
  const all: San[] = [...(profile.sans.includes('email') ? [{type: 'email' as const, value: email}] : []), ...extra];
  const seen = new Set<string>();
  return all.filter((s) => {
    const key = `${s.type}:${s.value.toLowerCase()}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
