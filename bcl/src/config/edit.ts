import {existsSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {writeAtomically} from './atomic-write.js';
import {parse, parseDocument} from 'yaml';
import {invalidInput} from '../errors.js';
import {findProjectFile, isPlainObject, PROJECT_FILE_NAME} from './files.js';
import {isKnownNamespace, KNOWN_NAMESPACES, type ConfigNamespace} from './namespace.js';
import {type LoadConfigOptions, loadConfig, type ResolvedConfig} from './resolve.js';
import {didYouMean} from '@bcl/spec-loader';
import {fileTrustStore, projectFileRule, recordTrust} from './trust.js';
import {coerce, keysOf, type Shape, shapeAt, shapeOf} from '@bcl/spec-loader';

export type EditTarget = 'user' | 'project';

export interface ConfigEdit {
  key: string;
  /** The raw string from the command line; undefined removes the key. */
  raw?: string;
  target: EditTarget;
  /** Write under profiles.<name> instead of the file's top level. */
  profile?: string;
}

export interface ConfigEditResult {
  key: string;
  value: unknown;
  file: string;
  profile?: string;
  removed?: boolean;
  /** The key was written to a project file the user does not trust, so it does not count yet. */
  ignoredUntilTrusted?: boolean;
}

/** Splits "svctl.clusters.prod.context" and checks it names a key of a registered namespace. */
export function parseKey(key: string, namespaces: readonly ConfigNamespace[]): {ns: ConfigNamespace; path: string[]; shape: Shape} {
  const [nsName, ...path] = key.split('.');
  if (!nsName || !isKnownNamespace(nsName)) {
    throw invalidInput('config.unknown_key', `${key}: unknown namespace "${nsName ?? ''}" (expected one of: ${KNOWN_NAMESPACES.join(', ')})`, {details: {key}});
  }
  const ns = namespaces.find((n) => n.name === nsName);
  if (!ns) throw invalidInput('config.unknown_key', `${key}: the ${nsName} namespace is not installed here`, {details: {key}});
  if (path.length === 0 || path.some((p) => p === '')) {
    throw invalidInput('config.unknown_key', `${key}: name a key inside ${nsName} (one of: ${keysOf(shapeOf(ns.schema)).join(', ')})`, {details: {key}});
  }
  const shape = shapeAt(shapeOf(ns.schema), path);
  if (!shape) {
    const allowed = keysOf(shapeAt(shapeOf(ns.schema), path.slice(0, -1)));
    const near = didYouMean(path[path.length - 1]!, allowed);
    throw invalidInput('config.unknown_key', `${key}: unknown key (${near ? `did you mean "${near}"?` : `expected one of: ${allowed.join(', ') || 'none'}`})`, {details: {key}});
  }
  return {ns, path, shape};
}

/**
 * Sets or removes one key in the user or project file: the value is coerced to the schema's
 * type, the whole configuration is validated with the edit applied, and only then is the file
 * replaced atomically (comments and layout of the rest of the file are kept).
 */
export async function editConfig(edit: ConfigEdit, load: LoadConfigOptions): Promise<{result: ConfigEditResult; config: ResolvedConfig}> {
  const {ns, path, shape} = parseKey(edit.key, load.namespaces);
  // A section takes a mapping in YAML flow style, so entries with required keys can be set at once:
  // bcl config set svctl.jenkins.ci '{url: https://ci.example.com, user: bot, tokenEnv: CI_TOKEN}'
  const section = edit.raw !== undefined && shape.kind === 'object' ? parseSection(edit.key, edit.raw, keysOf(shape)) : undefined;
  const file =
    edit.target === 'user' ? load.paths.userConfigFile : (findProjectFile(load.cwd) ?? join(load.cwd, PROJECT_FILE_NAME));
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw invalidInput('config.invalid', `${file}: not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`, {details: {file}});
  const fullPath = [...(edit.profile ? ['profiles', edit.profile] : []), ns.name, ...path];
  const value = edit.raw === undefined ? undefined : (section ?? coerce(shape, edit.raw));
  if (edit.raw === undefined) {
    doc.deleteIn(fullPath);
  } else {
    if (doc.contents === null) (doc as {contents: unknown}).contents = doc.createNode({});
    doc.setIn(fullPath, value);
  }
  const next = doc.toString();
  const config = loadConfig({
    ...load,
    fileOverrides: new Map([[file, next]]),
    ...(edit.target === 'project' ? {projectFile: file} : {}),
    ...(edit.profile ? {profile: edit.profile} : {}),
  });
  // An edit made through bcl of a file the user trusted keeps it trusted (the user wrote it).
  const wasTrusted = edit.target === 'project' && text !== '' && (load.trust ?? fileTrustStore(load.paths)).isTrusted(file, text);
  await writeAtomically(file, next);
  if (wasTrusted) await recordTrust(load.paths, file, next);
  const result: ConfigEditResult = {key: edit.key, value: edit.raw === undefined ? null : config.get(edit.key) ?? value, file};
  if (edit.profile) result.profile = edit.profile;
  if (edit.raw === undefined) result.removed = true;
  else if (edit.target === 'project' && !wasTrusted && projectFileRule(ns, path).rule === 'trusted') {
    result.ignoredUntilTrusted = true;
    result.value = value;
  }
  return {result, config};
}

function parseSection(key: string, raw: string, keys: string[]): Record<string, unknown> {
  let value: unknown;
  try {
    value = parse(raw);
  } catch {
    value = undefined;
  }
  if (!isPlainObject(value)) {
    throw invalidInput('config.not_a_value', `${key} is a section: give a mapping such as '{${keys[0] ?? 'key'}: value}', or set one of its keys (${keys.join(', ') || 'any name'}.<key>)`, {
      details: {key},
    });
  }
  return value;
}
