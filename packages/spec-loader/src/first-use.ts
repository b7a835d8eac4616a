/**
 * A value built on first use and kept: for zod schemas, which cost more to build than to
 * validate a file with, and which a command whose input was validated before (or that reads
 * none) never needs.
 */
export function builtOnFirstUse<T>(build: () => T): () => T {
  let built: {value: T} | undefined;
  return () => (built ??= {value: build()}).value;
}
