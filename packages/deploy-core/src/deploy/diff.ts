import {stringify} from 'yaml';
import type {KubeClients} from '../kube/index.js';
import {kubeError, statusOf} from '../kube/index.js';
import {type KubeObject, objectRef} from '../render/objects.js';
import type {RenderedService} from '../render/index.js';
import type {EnvironmentSpec} from '../spec/index.js';
import {applyObject, listOwned} from './apply.js';

export interface ObjectChange {
  ref: string;
  action: 'create' | 'update' | 'delete' | 'unchanged';
  /** A unified diff of the YAML (live -> after apply); empty when unchanged. */
  diff: string;
}

export interface ServiceDiff {
  service: string;
  environment: string;
  namespace: string;
  changes: ObjectChange[];
}

/** Fields the server owns or that change on every write: never part of a readable diff. */
function comparable(o: KubeObject | undefined): string {
  if (!o) return '';
  const {metadata, status: _status, ...rest} = o as KubeObject & {status?: unknown};
  const {managedFields: _m, resourceVersion: _r, uid: _u, generation: _g, creationTimestamp: _c, ...meta} = metadata as Record<string, unknown>;
  const annotations = {...(meta.annotations as Record<string, string> | undefined)};
  delete annotations['deployment.kubernetes.io/revision'];
  delete annotations['svctl.bcl.io/revision'];
  if (Object.keys(annotations).length === 0) delete meta.annotations;
  else meta.annotations = annotations;
  const {apiVersion, kind, ...body} = rest;
  return stringify(jsonNames({apiVersion, kind, metadata: meta, ...body}), {lineWidth: 0, sortMapEntries: true});
}

/**
 * What a deploy would change: every rendered object through a server-side dry-run apply
 * (defaults, admission and field ownership exactly as a real apply), compared with the live
 * object; objects the deploy would prune show as deletions.
 */
export async function diffService(clients: KubeClients, spec: EnvironmentSpec, rendered: RenderedService): Promise<ServiceDiff> {
  const {createTwoFilesPatch} = await import('diff');
  const {withMonitoring} = await import('./deploy.js');
  rendered = (await withMonitoring(clients, {spec, rendered, imageTag: rendered.image.slice(rendered.image.lastIndexOf(':') + 1)})).rendered;
  const owned = await listOwned(clients, spec.namespace, spec.name, spec.environment, rendered.objects);
  const namespaceExists = await clients.core.readNamespace({name: spec.namespace}).then(
    () => true,
    (error) => {
      if (statusOf(error) === 404) return false;
      throw kubeError(error, `reading namespace ${spec.namespace}`, clients.server);
    },
  );
  const changes: ObjectChange[] = [];
  for (const object of rendered.objects) {
    const ref = objectRef(object);
    const live = owned.get(ref);
    // A dry run into a namespace that does not exist yet fails: show the rendered object as created.
    const after = namespaceExists ? (await applyObject(clients, object, live, true)).object : object;
    const before = comparable(live);
    const next = comparable(after);
    if (before === next) {
      changes.push({ref, action: 'unchanged', diff: ''});
      continue;
    }
    const patch = createTwoFilesPatch(live ? `live/${ref}` : '/dev/null', `rendered/${ref}`, before, next, undefined, undefined, {context: 3});
    changes.push({ref, action: live ? 'update' : 'create', diff: patch.split('\n').slice(1).join('\n')});
  }
  const keep = new Set(rendered.objects.map(objectRef));
  for (const [ref, o] of owned) {
    if (keep.has(ref)) continue;
    const patch = createTwoFilesPatch(`live/${ref}`, '/dev/null', comparable(o), '', undefined, undefined, {context: 3});
    changes.push({ref, action: 'delete', diff: patch.split('\n').slice(1).join('\n')});
  }
  return {service: spec.name, environment: spec.environment, namespace: spec.namespace, changes};
}

/** client-node's models name a NetworkPolicy rule's `from` `_from`: show the API's name. */
function jsonNames(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(jsonNames);
  if (value && typeof value === 'object' && !(value instanceof Date)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k === '_from' ? 'from' : k, jsonNames(v)]));
  return value;
}
