import semver from 'semver';

/** Semantic versions (https://semver.org): 1.4.0, 1.5.0-beta.2; prereleases sort before their release. */
export function isValidVersion(v: string): boolean {
  return semver.valid(v) !== null && !v.startsWith('v');
}

export function compareVersions(a: string, b: string): number {
  return semver.compare(a, b);
}

export const isLower = (a: string, b: string) => compareVersions(a, b) < 0;

export function highest(versions: readonly string[]): string | undefined {
  return [...versions].sort(compareVersions).at(-1);
}
