import {readFileSync, statSync} from 'node:fs';
import {dirname, join, relative, resolve} from 'node:path';
import {invalidInput, specInvalid} from '@bcl/core/errors';
import {checkYaml, formatKeyPath, SpecError} from '@bcl/spec-loader';
import type {ValidationMemo} from '@bcl/core/validated';
import {type ServiceSpec, serviceSpecSchema} from './schema.js';

export const SPEC_FILE_NAME = 'service.yaml';

/** A spec read from disk: where it came from, and the validated spec with defaults applied. */
export interface LoadedSpec {
  /** Absolute path of the service.yaml. */
  path: string;
  /** Its directory (the service's checkout). */
  dir: string;
  spec: ServiceSpec;
}

/** One problem found in a spec, located as precisely as the file allows. */
export interface SpecProblem {
  /** Key path, e.g. "environments.prod.routes[0].host". */
  key: string;
  message: string;
  line?: number;
  column?: number;
}

/**
 * The service.yaml a command argument names: a file, or a directory holding service.yaml;
 * without an argument, service.yaml in `cwd`. A missing file is exit 3 naming it.
 */
export function findSpecFile(cwd: string, arg?: string): string {
  const target = resolve(cwd, arg ?? SPEC_FILE_NAME);
  let stat;
  try {
    stat = statSync(target);
  } catch {
    throw invalidInput('svctl.spec_not_found', `${display(cwd, target)} does not exist`, {
      hint: arg ? 'Pass the path of a service.yaml or of the directory holding it.' : 'Run svctl in the directory of a service.yaml, pass its path, or create one with `svctl init`.',
      details: {file: target},
    });
  }
  const file = stat.isDirectory() ? join(target, SPEC_FILE_NAME) : target;
  if (stat.isDirectory()) {
    try {
      statSync(file);
    } catch {
      throw invalidInput('svctl.spec_not_found', `${display(cwd, target)} holds no ${SPEC_FILE_NAME}`, {
        hint: 'Create one with `svctl init`, or pass the path of the spec.',
        details: {file},
      });
    }
  }
  return file;
}

/**
 * Reads and validates a service.yaml. Every problem is an exit-3 error naming the file, line and
 * key path. With a memo (a command's ctx.validations), a spec validated before is not again.
 */
export function loadSpec(path: string, memo?: ValidationMemo): LoadedSpec {
  const file = resolve(path);
  let text: Uint8Array;
  try {
    text = readFileSync(file);
  } catch (error) {
    throw invalidInput('svctl.spec_unreadable', `cannot read ${file}: ${(error as Error).message}`, {details: {file}});
  }
  return {path: file, dir: dirname(file), spec: parseSpec(text, file, memo)};
}

/** Validates the text of a service.yaml; `file` names it in messages. */
export function parseSpec(text: string | Uint8Array, file = SPEC_FILE_NAME, memo?: ValidationMemo): ServiceSpec {
  // The exact bytes are the key (latin1 keeps each byte as one character).
  const input = memo ? (typeof text === 'string' ? `s${text}` : `b${Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString('latin1')}`) : '';
  const known = memo?.get('svctl.service-spec', input) as ServiceSpec | undefined;
  if (known !== undefined) return known;
  const result = checkYaml(serviceSpecSchema, text, file);
  if (result.ok) {
    memo?.set('svctl.service-spec', input, result.value);
    return result.value;
  }
  const first = result.problems[0]!;
  const key = formatKeyPath(first.path);
  throw specInvalid('svctl.spec_invalid', new SpecError(file, result.problems), {
    hint: key ? `Fix ${key} in ${file}; the reference is docs/svctl/service-spec.md.` : `Fix ${file}; the reference is docs/svctl/service-spec.md.`,
  });
}

/** Validates without throwing: the spec, or every problem found. */
export function checkSpec(text: string, file = SPEC_FILE_NAME): {ok: true; spec: ServiceSpec} | {ok: false; problems: SpecProblem[]} {
  const result = checkYaml(serviceSpecSchema, text, file);
  if (result.ok) return {ok: true, spec: result.value};
  return {ok: false, problems: result.problems.map((p) => ({key: formatKeyPath(p.path), message: p.message, ...(p.line === undefined ? {} : {line: p.line, column: p.column ?? 1})}))};
}

function display(cwd: string, path: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') ? rel : path;
}
