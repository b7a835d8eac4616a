// Compatibility of two OpenAPI 3.1 documents, as a client of the old one would notice it.
// No Fastify here: the check CLI and CI use it on committed JSON files alone.

type Json = Record<string, unknown>;
type Schema = Json | boolean;

export interface ApiChange {
  /** incompatible: an existing client can break; compatible: it cannot. */
  kind: 'incompatible' | 'compatible';
  rule:
    | 'route_removed'
    | 'route_added'
    | 'response_status_removed'
    | 'response_field_removed'
    | 'response_field_optional'
    | 'response_type_changed'
    | 'response_enum_widened'
    | 'response_field_added'
    | 'request_field_required'
    | 'request_field_removed'
    | 'request_type_changed'
    | 'request_enum_narrowed'
    | 'request_field_added'
    | 'parameter_required'
    | 'parameter_removed'
    | 'parameter_added'
    | 'request_body_required';
  /** Where: "POST /v1/deploys 202 body.operation.id". */
  where: string;
  message: string;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

/** Every difference between two documents that matters to a client, incompatible ones first. */
export function compareOpenApi(before: Json, after: Json): ApiChange[] {
  const changes: ApiChange[] = [];
  const add = (kind: ApiChange['kind'], rule: ApiChange['rule'], where: string, message: string) => changes.push({kind, rule, where, message});
  const oldPaths = (before.paths ?? {}) as Record<string, Json>;
  const newPaths = (after.paths ?? {}) as Record<string, Json>;
  const resolveOld = resolver(before);
  const resolveNew = resolver(after);

  for (const [path, oldItem] of Object.entries(oldPaths)) {
    for (const method of METHODS) {
      const oldOp = oldItem[method] as Json | undefined;
      if (!oldOp) continue;
      const route = `${method.toUpperCase()} ${path}`;
      const newOp = newPaths[path]?.[method] as Json | undefined;
      if (!newOp) {
        add('incompatible', 'route_removed', route, `${route} was removed`);
        continue;
      }
      compareParameters(route, oldOp, newOp, add);
      const oldBody = bodySchema(oldOp.requestBody as Json | undefined, resolveOld);
      const newBody = bodySchema(newOp.requestBody as Json | undefined, resolveNew);
      if (!(oldOp.requestBody as Json | undefined)?.required && (newOp.requestBody as Json | undefined)?.required) {
        add('incompatible', 'request_body_required', route, `${route} now requires a request body`);
      }
      if (oldBody !== undefined || newBody !== undefined) {
        compareSchema(oldBody ?? {}, newBody ?? {}, 'request', `${route} body`, resolveOld, resolveNew, add, new Set());
      }
      const oldResponses = (oldOp.responses ?? {}) as Record<string, Json>;
      const newResponses = (newOp.responses ?? {}) as Record<string, Json>;
      for (const [status, oldResponse] of Object.entries(oldResponses)) {
        if (!/^2/.test(status)) continue;
        const newResponse = newResponses[status];
        if (!newResponse) {
          add('incompatible', 'response_status_removed', `${route} ${status}`, `${route} no longer answers ${status}`);
          continue;
        }
        const o = bodySchema(oldResponse, resolveOld);
        const n = bodySchema(newResponse, resolveNew);
        if (o !== undefined) compareSchema(o, n ?? {}, 'response', `${route} ${status} body`, resolveOld, resolveNew, add, new Set());
      }
    }
  }
  for (const [path, newItem] of Object.entries(newPaths)) {
    for (const method of METHODS) {
      if (newItem[method] && !oldPaths[path]?.[method]) add('compatible', 'route_added', `${method.toUpperCase()} ${path}`, `${method.toUpperCase()} ${path} was added`);
    }
  }
  return changes.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'incompatible' ? -1 : 1));
}

type Add = (kind: ApiChange['kind'], rule: ApiChange['rule'], where: string, message: string) => void;

function compareParameters(route: string, oldOp: Json, newOp: Json, add: Add): void {
  type Param = {name: string; in: string; required?: boolean; schema?: Json};
  const key = (p: Param) => `${p.in}.${p.name}`;
  const oldParams = new Map(((oldOp.parameters ?? []) as Param[]).map((p) => [key(p), p]));
  const newParams = new Map(((newOp.parameters ?? []) as Param[]).map((p) => [key(p), p]));
  for (const [k, p] of newParams) {
    const old = oldParams.get(k);
    if (p.required && !old?.required) add('incompatible', 'parameter_required', `${route} ${k}`, `${route}: the ${p.in} parameter ${p.name} is now required`);
    else if (!old) add('compatible', 'parameter_added', `${route} ${k}`, `${route}: optional ${p.in} parameter ${p.name} was added`);
  }
  for (const [k, p] of oldParams) {
    if (!newParams.has(k) && p.in !== 'header') add('incompatible', 'parameter_removed', `${route} ${k}`, `${route}: the ${p.in} parameter ${p.name} was removed (clients sending it are refused)`);
    const n = newParams.get(k);
    if (n?.schema && p.schema) {
      const o = enumOf(p.schema);
      const e = enumOf(n.schema);
      if (o && e && o.some((v) => !e.includes(v))) add('incompatible', 'request_enum_narrowed', `${route} ${k}`, `${route}: ${p.in} parameter ${p.name} no longer accepts ${o.filter((v) => !e.includes(v)).map((v) => JSON.stringify(v)).join(', ')}`);
    }
  }
}

function bodySchema(holder: Json | undefined, resolve: (s: Schema) => Schema): Schema | undefined {
  const content = holder?.content as Record<string, {schema?: Schema}> | undefined;
  if (!content) return undefined;
  const json = content['application/json'] ?? Object.values(content)[0];
  return json?.schema === undefined ? undefined : resolve(json.schema);
}

function resolver(doc: Json): (s: Schema) => Schema {
  return (s) => {
    let current = s;
    for (let i = 0; i < 20 && typeof current === 'object' && typeof current.$ref === 'string'; i++) {
      const ref = current.$ref as string;
      if (!ref.startsWith('#/')) break;
      let target: unknown = doc;
      for (const part of ref.slice(2).split('/')) target = (target as Json | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
      current = (target ?? {}) as Schema;
    }
    return current;
  };
}

function typesOf(s: Json): string[] | undefined {
  if (s.const !== undefined) return [typeof s.const === 'object' ? (s.const === null ? 'null' : 'object') : typeof s.const === 'number' ? 'number' : typeof s.const];
  if (typeof s.type === 'string') return [s.type === 'integer' ? 'number' : s.type];
  if (Array.isArray(s.type)) return (s.type as string[]).map((t) => (t === 'integer' ? 'number' : t));
  if (s.properties) return ['object'];
  return undefined;
}

function enumOf(s: Json): unknown[] | undefined {
  if (Array.isArray(s.enum)) return s.enum as unknown[];
  if (s.const !== undefined) return [s.const];
  return undefined;
}

/** The alternatives of a union (anyOf/oneOf), or the schema itself. */
function alternatives(s: Json, resolve: (s: Schema) => Schema): Json[] {
  const list = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (!list) return [s];
  return list.flatMap((x) => {
    const r = resolve(x);
    return typeof r === 'object' ? alternatives(r, resolve) : [{}];
  });
}

/**
 * Compares one schema position. For a request, the new schema must accept everything the old
 * one did; for a response, it must produce only what the old one promised.
 */
function compareSchema(oldS: Schema, newS: Schema, dir: 'request' | 'response', where: string, ro: (s: Schema) => Schema, rn: (s: Schema) => Schema, add: Add, seen: Set<string>): void {
  const o = ro(oldS);
  const n = rn(newS);
  if (typeof o !== 'object' || typeof n !== 'object') return;
  const guard = `${where}`;
  if (seen.has(guard)) return;
  seen.add(guard);
  const oldAlts = alternatives(o, ro);
  const newAlts = alternatives(n, rn);
  if (oldAlts.length > 1 || newAlts.length > 1) {
    // Each alternative a client may send (request) or receive (response) must still match one.
    const [from, to] = dir === 'request' ? [oldAlts, newAlts] : [newAlts, oldAlts];
    for (const alt of from) {
      const t = typesOf(alt);
      const match = to.find((x) => sameTypes(typesOf(x), t)) ;
      if (!match) {
        add('incompatible', dir === 'request' ? 'request_type_changed' : 'response_type_changed', where, `${where}: ${dir === 'request' ? 'no longer accepts' : 'may now be'} ${describe(alt)}`);
      } else if (dir === 'request') compareSchema(alt, match, dir, where, ro, rn, add, seen);
      else compareSchema(match, alt, dir, where, ro, rn, add, seen);
    }
    return;
  }
  const ot = typesOf(o);
  const nt = typesOf(n);
  if (ot && nt && !sameTypes(ot, nt)) {
    const lost = dir === 'request' ? ot.filter((t) => !nt.includes(t)) : nt.filter((t) => !ot.includes(t));
    if (lost.length > 0) {
      add('incompatible', dir === 'request' ? 'request_type_changed' : 'response_type_changed', where, `${where}: type changed from ${ot.join('|')} to ${nt.join('|')}`);
      return;
    }
  }
  const oe = enumOf(o);
  const ne = enumOf(n);
  if (dir === 'request' && oe) {
    const removed = ne ? oe.filter((v) => !ne.some((x) => JSON.stringify(x) === JSON.stringify(v))) : [];
    if (removed.length > 0) add('incompatible', 'request_enum_narrowed', where, `${where}: no longer accepts ${removed.map((v) => JSON.stringify(v)).join(', ')}`);
  }
  if (dir === 'response' && ne) {
    const added = oe ? ne.filter((v) => !oe.some((x) => JSON.stringify(x) === JSON.stringify(v))) : ne;
    if (oe && added.length > 0) add('compatible', 'response_enum_widened', where, `${where}: may now be ${added.map((v) => JSON.stringify(v)).join(', ')} (clients must accept values they do not know)`);
  }
  const oProps = (o.properties ?? {}) as Record<string, Schema>;
  const nProps = (n.properties ?? {}) as Record<string, Schema>;
  const oReq = new Set((o.required ?? []) as string[]);
  const nReq = new Set((n.required ?? []) as string[]);
  if (dir === 'request') {
    for (const name of Object.keys(nProps)) {
      if (nReq.has(name) && !oReq.has(name)) add('incompatible', 'request_field_required', `${where}.${name}`, `${where}.${name} is now required`);
      else if (!(name in oProps)) add('compatible', 'request_field_added', `${where}.${name}`, `${where}.${name} was added (optional)`);
    }
    for (const name of Object.keys(oProps)) {
      if (!(name in nProps)) {
        if (n.additionalProperties === false || o.additionalProperties === false) add('incompatible', 'request_field_removed', `${where}.${name}`, `${where}.${name} was removed: clients sending it are refused`);
      } else compareSchema(oProps[name]!, nProps[name]!, dir, `${where}.${name}`, ro, rn, add, seen);
    }
  } else {
    for (const name of Object.keys(oProps)) {
      if (!(name in nProps)) add('incompatible', 'response_field_removed', `${where}.${name}`, `${where}.${name} was removed`);
      else {
        if (oReq.has(name) && !nReq.has(name)) add('incompatible', 'response_field_optional', `${where}.${name}`, `${where}.${name} is no longer always present`);
        compareSchema(oProps[name]!, nProps[name]!, dir, `${where}.${name}`, ro, rn, add, seen);
      }
    }
    for (const name of Object.keys(nProps)) if (!(name in oProps)) add('compatible', 'response_field_added', `${where}.${name}`, `${where}.${name} was added`);
  }
  if (o.items !== undefined && n.items !== undefined) compareSchema(o.items as Schema, n.items as Schema, dir, `${where}[]`, ro, rn, add, seen);
  if (typeof o.additionalProperties === 'object' && typeof n.additionalProperties === 'object') compareSchema(o.additionalProperties as Schema, n.additionalProperties as Schema, dir, `${where}.*`, ro, rn, add, seen);
}

function sameTypes(a: string[] | undefined, b: string[] | undefined): boolean {
  if (!a || !b) return true;
  return a.length === b.length && a.every((t) => b.includes(t));
}

function describe(s: Json): string {
  const e = enumOf(s);
  if (e) return e.map((v) => JSON.stringify(v)).join(' | ');
  return typesOf(s)?.join('|') ?? 'any value';
}
