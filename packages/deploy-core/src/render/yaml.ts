import {stringify} from 'yaml';
import type {KubeObject} from './objects.js';

/** Objects as a multi-document YAML stream, as `kubectl apply -f` reads it. */
export function toYaml(objects: readonly KubeObject[]): string {
  return objects.map((o) => `---\n${stringify(o, {lineWidth: 0, aliasDuplicateObjects: false})}`).join('');
}
