import {existsSync, mkdirSync} from 'node:fs';
import {basename, join, relative} from 'node:path';
import {writeFileAtomicSync} from '@bcl/files';
import {checkSpec, conflict, invalidInput} from './deps.js';
import type {Runtime} from '@bcl/deploy-core/spec/schema';
import {DEFAULT_PORTS, scaffoldSpecText} from './spec-text.js';
import {renderDockerfile, renderDockerignore} from './dockerfile.js';
import {renderJenkinsfile} from './jenkinsfile.js';

export interface ScaffoldInput {
  dir: string;
  name: string;
  team: string;
  runtime: Runtime;
  image?: string | undefined;
  port?: number | undefined;
  /** Overwrite files that exist. */
  force: boolean;
}

export interface ScaffoldResult {
  dir: string;
  name: string;
  runtime: Runtime;
  files: {path: string; action: 'created' | 'overwritten'}[];
}

const FLAG_OF_KEY: Record<string, string> = {name: '--name', team: '--team', image: '--image', port: '--port', runtime: '--runtime'};

/**
 * Writes service.yaml, Dockerfile, Jenkinsfile and .dockerignore for a new service. The spec is
 * validated before anything is written, and existing files are refused (exit 6) unless `force`:
 * either every file is written or none.
 */
export function scaffoldService(input: ScaffoldInput): ScaffoldResult {
  const port = input.port ?? DEFAULT_PORTS[input.runtime];
  const specText = scaffoldSpecText({name: input.name, team: input.team, runtime: input.runtime, image: input.image, port});
  const checked = checkSpec(specText);
  if (!checked.ok) {
    const problem = checked.problems[0]!;
    const flag = FLAG_OF_KEY[problem.key.split('.')[0] ?? ''] ?? problem.key;
    throw invalidInput('svctl.init_invalid', `${flag}: ${problem.message}`, {hint: 'Names are DNS labels: lower-case letters, digits and "-", starting with a letter.', details: {problems: checked.problems}});
  }
  const spec = checked.spec;
  const files: [string, string][] = [
    ['service.yaml', specText],
    ['Dockerfile', renderDockerfile({name: spec.name, runtime: spec.runtime, port: spec.port, healthPath: spec.probes.liveness.path})],
    ['Jenkinsfile', renderJenkinsfile({name: spec.name, runtime: spec.runtime, image: spec.image})],
    ['.dockerignore', renderDockerignore(spec.runtime)],
  ];
  const existing = files.map(([name]) => name).filter((name) => existsSync(join(input.dir, name)));
  if (existing.length > 0 && !input.force) {
    throw conflict('svctl.init_exists', `${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''} in ${input.dir}; nothing was written`, {
      hint: 'Pass --force to overwrite them, or run svctl init in an empty directory.',
      details: {existing},
    });
  }
  mkdirSync(input.dir, {recursive: true});
  const result: ScaffoldResult = {dir: input.dir, name: spec.name, runtime: spec.runtime, files: []};
  for (const [name, text] of files) {
    const target = join(input.dir, name);
    const action = existsSync(target) ? 'overwritten' : 'created';
    writeFileAtomicSync(target, text, {mode: 0o644});
    result.files.push({path: relative(process.cwd(), target) || name, action});
  }
  return result;
}

/** A service name from a directory name: lower case, DNS-label characters only. */
export function nameFromDirectory(dir: string): string | undefined {
  const name = basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-+$/, '')
    .slice(0, 40);
  return name || undefined;
}
