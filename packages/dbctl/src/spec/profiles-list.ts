/** The access profiles, in a module light enough for command flags (no zod). */
export const PROFILES = ['readonly', 'readwrite', 'owner'] as const;
