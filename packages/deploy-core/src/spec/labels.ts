/**
 * The labels svctl puts on every object it renders. `managed-by`, `name` and `environment`
 * together select what a deploy owns: pruning and status never look at anything else.
 */
export const LABELS = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  partOf: 'app.kubernetes.io/part-of',
  managedBy: 'app.kubernetes.io/managed-by',
  version: 'app.kubernetes.io/version',
  team: 'team',
  environment: 'svctl.bcl.io/environment',
} as const;

export const MANAGED_BY = 'svctl';

/** Annotations svctl writes (revision and image of the deploy that applied an object). */
export const ANNOTATIONS = {
  revision: 'svctl.bcl.io/revision',
  gitSha: 'svctl.bcl.io/git-sha',
  specHash: 'svctl.bcl.io/spec-hash',
} as const;

/** The label selector of everything one service owns in one environment. */
export function ownedSelector(name: string, environment: string): string {
  return `${LABELS.managedBy}=${MANAGED_BY},${LABELS.name}=${name},${LABELS.environment}=${environment}`;
}

/** A label value from free text (an image tag): at most 63 characters, alphanumerics at both ends. */
export function labelValue(text: string): string {
  const cleaned = text.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 63);
  return cleaned.replace(/^[^A-Za-z0-9]+/, '').replace(/[^A-Za-z0-9]+$/, '');
}

/** The pattern of imagePolicy.mutableTags that `tag` matches ("*" stands for any characters), if any. */
export function isMutableTag(policy: {mutableTags: readonly string[]}, tag: string): string | undefined {
  return policy.mutableTags.find((pattern) => new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.]/g, '\\.')).join('.*')}$`).test(tag));
}
