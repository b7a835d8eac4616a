/**
 * Where group memberships come from: profiles that name `groups`, and admin groups. In
 * production Google's Admin SDK Directory API (directory/google.ts); a fixed table for small
 * installations; none when nothing needs groups.
 */
export interface Directory {
  /** The groups (their email addresses, lower case) the person is a direct member of. */
  groupsOf(email: string): Promise<string[]>;
}

/** The directory could not answer: requests that need groups fail with 503, nothing is decided on a guess. */
export class DirectoryUnavailable extends Error {
  override readonly name = 'DirectoryUnavailable';
}

export const noDirectory: Directory = {groupsOf: async () => []};

export function staticDirectory(groups: Record<string, readonly string[]>): Directory {
  const byMember = new Map<string, string[]>();
  for (const [group, members] of Object.entries(groups)) {
    for (const m of members) byMember.set(m.toLowerCase(), [...(byMember.get(m.toLowerCase()) ?? []), group.toLowerCase()]);
  }
  return {groupsOf: async (email) => byMember.get(email.toLowerCase()) ?? []};
}
