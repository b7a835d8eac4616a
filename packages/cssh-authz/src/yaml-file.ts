import {formatKeyPath, isSpecError, loadYamlFile as loadSpecFile, type Problem} from '@bcl/spec-loader';
import type {z} from 'zod';

/** A file that cannot be used: the message names the file, the line and the key, and what was expected. */
export class InvalidFileError extends Error {
  override readonly name = 'InvalidFileError';
  constructor(
    message: string,
    readonly file: string,
    readonly line?: number,
    /** Every problem found, when the file is a YAML document a schema refused. */
    readonly problems: readonly Problem[] = [],
  ) {
    super(message);
  }
}

/**
 * Reads a YAML file and validates it with a zod schema (the shared spec loader): every problem
 * as `rules.yaml:12:5: grants[1].group: ...`.
 */
export function loadYamlFile<S extends z.ZodType>(path: string, schema: S, text?: string): z.output<S> {
  try {
    return loadSpecFile(schema, path, text === undefined ? {} : {text});
  } catch (error) {
    if (isSpecError(error)) throw new InvalidFileError(error.message, path, error.problems[0]?.line, error.problems);
    throw error;
  }
}

/** grants[1].group */
export const formatPath = formatKeyPath;
