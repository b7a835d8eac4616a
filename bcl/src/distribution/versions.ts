// The two functions only: this module is loaded at the start of every installed tool's command.
import compare from 'semver/functions/compare.js';
import valid from 'semver/functions/valid.js';

/** Semantic versions (https://semver.org): 1.4.0, 1.5.0-beta.2; prereleases sort before their release. */
export function isValidVersion(v: string): boolean {
  return valid(v) !== null && !v.startsWith('v');
}

export function compareVersions(a: string, b: string): number {
  return compare(a, b);
}
