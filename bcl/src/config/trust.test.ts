import {describe, expect, it} from 'vitest';
import {keysOf, shapeAt, shapeOf, type Shape} from '@bcl/spec-loader';
import type {ConfigNamespace} from './namespace.js';
import {bclNamespace} from './bcl-namespace.js';
import {projectFileRule} from './trust.js';

// Every namespace of the workspace, as the tools register them.
const namespaces: ConfigNamespace[] = [
  bclNamespace,
  ...(await Promise.all(['svctl', 'dbctl', 'pkictl', 'csshctl'].map(async (tool) => (await import(`../../../packages/${tool}/dist/config.js`)).default as ConfigNamespace))),
];

/** Every key path that holds a value (mappings are descended, records through their value shape). */
function keyPaths(shape: Shape | undefined, path: string[] = []): string[][] {
  if (!shape) return [path];
  if (shape.kind === 'object') {
    const own = Object.keys(shape.props).flatMap((k) => keyPaths(shape.props[k], [...path, k]));
    const additional = shape.additional && shape.additional.kind !== 'any' ? keyPaths(shape.additional, [...path, '<name>']) : [];
    return own.length + additional.length > 0 ? [...own, ...additional] : [path];
  }
  if (shape.kind === 'union' && shape.options.some((o) => o.kind === 'object')) return [...new Set(shape.options.flatMap((o) => keyPaths(o, path)).map((p) => p.join('.')))].map((p) => p.split('.'));
  return [path];
}

describe('project-file rules', () => {
  it('every configuration key declares whether a project file may set it', () => {
    const undeclared: string[] = [];
    for (const ns of namespaces) {
      for (const path of keyPaths(shapeOf(ns.schema))) {
        if (!projectFileRule(ns, path).declared) undeclared.push([ns.name, ...path].join('.'));
      }
    }
    expect(undeclared).toEqual([]);
  });

  it('keys that choose programs, servers, CAs, keys and trust roots need a trusted file', () => {
    const rule = (ns: string, key: string) => projectFileRule(namespaces.find((n) => n.name === ns)!, key.split('.')).rule;
    for (const key of ['update.store', 'update.trustedKeys', 'update.binDir']) expect(rule('bcl', key)).toBe('trusted');
    for (const key of ['ssh', 'server', 'serverCa', 'sshKey', 'certificate']) expect(rule('csshctl', key)).toBe('trusted');
    for (const key of ['store', 'caKey']) expect(rule('pkictl', key)).toBe('trusted');
    for (const key of ['clusters.prod.context', 'jenkins.ci.url', 'grafana.url']) expect(rule('svctl', key)).toBe('trusted');
    for (const key of ['terraform.binary', 'connections.main.host', 'backend.type']) expect(rule('dbctl', key)).toBe('trusted');
    expect(rule('svctl', 'defaultEnv')).toBe('allowed');
    expect(rule('bcl', 'http.timeoutSeconds')).toBe('allowed');
    expect(keysOf(shapeAt(shapeOf(bclNamespace.schema), ['update']))).toContain('store');
  });
});
