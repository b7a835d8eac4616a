/**
 * A readable summary of a saved plan, from `terraform show -json <planfile>`: what is created,
 * updated, replaced (and which attribute forces it) or deleted, what drifted outside Terraform, and
 * which changes destroy something a person must confirm. Sensitive values are never shown.
 */

export type ChangeAction = 'create' | 'update' | 'replace' | 'delete';

export interface AttributeChange {
  attribute: string;
  before: string;
  after: string;
  /** This attribute forces the replacement. */
  forcesReplacement?: boolean;
}

export interface ResourceChange {
  address: string;
  type: string;
  action: ChangeAction;
  /** "role app", "database shop", "instance orders-prod". */
  object: string;
  attributes: AttributeChange[];
  /** Why Terraform replaces it, when it does. */
  reason?: string;
}

export interface PlanSummary {
  noChanges: boolean;
  counts: Record<ChangeAction, number>;
  changes: ResourceChange[];
  /** Changes made outside Terraform, found while refreshing. */
  drift: ResourceChange[];
  /** Deletes and replaces of instances, databases, schemas and roles: they need a confirmation. */
  destructive: ResourceChange[];
}

/** Resource types whose delete or replace loses data or access. */
export const DESTRUCTIVE_TYPES = new Set([
  'google_sql_database_instance',
  'google_sql_database',
  'google_sql_user',
  'aws_db_instance',
  'postgresql_database',
  'postgresql_role',
  'postgresql_schema',
  'mysql_database',
  'mysql_user',
]);

interface ShowChange {
  actions: string[];
  before: unknown;
  after: unknown;
  after_unknown?: unknown;
  before_sensitive?: unknown;
  after_sensitive?: unknown;
  replace_paths?: (string | number)[][];
}

interface ShowResourceChange {
  address: string;
  type: string;
  name: string;
  mode?: string;
  change: ShowChange;
  action_reason?: string;
}

export interface ShowPlan {
  resource_changes?: ShowResourceChange[];
  resource_drift?: ShowResourceChange[];
  relevant_attributes?: {resource: string; attribute: (string | number)[]}[];
  prior_state?: {values?: {root_module?: {resources?: {address: string; type: string; values: Record<string, unknown>}[]}}};
}

export function summarizePlan(plan: ShowPlan): PlanSummary {
  const counts: Record<ChangeAction, number> = {create: 0, update: 0, replace: 0, delete: 0};
  const changes: ResourceChange[] = [];
  for (const rc of plan.resource_changes ?? []) {
    if (rc.mode === 'data') continue;
    const action = actionOf(rc.change.actions);
    if (!action) continue;
    counts[action]++;
    changes.push(describe(rc, action));
  }
  // As terraform's own output: drift is shown when it matters to this plan (the resource changes, or
  // the attribute is relevant), so attributes under lifecycle.ignore_changes (passwords rotated by
  // dbctl) and empty-list-versus-null differences do not show as drift.
  const relevant = new Map<string, Set<string>>();
  for (const r of plan.relevant_attributes ?? []) {
    const set = relevant.get(r.resource) ?? new Set<string>();
    set.add(String(r.attribute[0]));
    relevant.set(r.resource, set);
  }
  const changing = new Set(changes.map((c) => c.address));
  const drift = (plan.resource_drift ?? []).flatMap((rc) => {
    const action = actionOf(rc.change.actions);
    if (!action) return [];
    const described = describe(rc, action);
    if (action !== 'update') return [described];
    if (!changing.has(rc.address)) described.attributes = described.attributes.filter((a) => relevant.get(rc.address)?.has(a.attribute));
    return described.attributes.length === 0 ? [] : [described];
  });
  const destructive = changes.filter((c) => (c.action === 'delete' || c.action === 'replace') && DESTRUCTIVE_TYPES.has(c.type));
  return {noChanges: changes.length === 0, counts, changes, drift, destructive};
}

function actionOf(actions: string[]): ChangeAction | undefined {
  if (actions.includes('delete') && actions.includes('create')) return 'replace';
  if (actions.includes('create')) return 'create';
  if (actions.includes('delete')) return 'delete';
  if (actions.includes('update')) return 'update';
  return undefined;
}

function describe(rc: ShowResourceChange, action: ChangeAction): ResourceChange {
  const c = rc.change;
  const before = asRecord(c.before);
  const after = asRecord(c.after);
  const values = action === 'delete' ? before : after;
  const forcing = new Set((c.replace_paths ?? []).map((p) => String(p[0])));
  const attributes: AttributeChange[] = [];
  if (action === 'update' || action === 'replace') {
    const keys = new Set([...Object.keys(before), ...Object.keys(after), ...Object.keys(asRecord(c.after_unknown))]);
    for (const key of [...keys].sort()) {
      // Sensitivity markers are `true` for a sensitive value; nested structures carry arrays/objects of markers.
      const unknown = asRecord(c.after_unknown)[key] === true;
      const sensitive = asRecord(c.before_sensitive)[key] === true || asRecord(c.after_sensitive)[key] === true;
      const b = before[key];
      const a = after[key];
      if (!unknown && sameValue(b, a)) continue;
      attributes.push({
        attribute: key,
        before: sensitive ? '(sensitive)' : show(b),
        after: unknown ? '(known after apply)' : sensitive ? '(sensitive)' : show(a),
        ...(forcing.has(key) ? {forcesReplacement: true} : {}),
      });
    }
  }
  const change: ResourceChange = {address: rc.address, type: rc.type, action, object: objectName(rc.type, values, rc.name), attributes};
  if (rc.action_reason) change.reason = rc.action_reason;
  return change;
}

/** How a person names a resource: "role app", "grant on table in shop.public to reporting". */
export function objectName(type: string, v: Record<string, unknown>, fallback: string): string {
  const kind = type.replace(/^(postgresql|mysql|google_sql|aws_db|aws)_/, '').replace(/_/g, ' ');
  const name = v.name ?? v.identifier ?? v.user ?? v.role;
  if (type === 'postgresql_grant' || type === 'postgresql_default_privileges') {
    const where = [v.database, v.schema].filter((x) => typeof x === 'string' && x !== '').join('.');
    const owner = type === 'postgresql_default_privileges' ? ` created by ${v.owner}` : '';
    return `${type === 'postgresql_grant' ? 'grant' : 'default privileges'} on ${v.object_type}${owner} ${where ? `in ${where} ` : ''}to ${v.role}`;
  }
  if (type === 'mysql_grant') return `grant on ${v.database}.${v.table ?? '*'} to ${v.user}@${v.host}`;
  return typeof name === 'string' ? `${kind} ${name}` : `${kind} ${fallback}`;
}

/** Equal, counting null, "", [] and {} as the same absence. */
function sameValue(a: unknown, b: unknown): boolean {
  const empty = (v: unknown) => v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);
  if (empty(a) && empty(b)) return true;
  if (Array.isArray(a) && Array.isArray(b) && a.every((x) => typeof x !== 'object') && b.every((x) => typeof x !== 'object')) {
    return JSON.stringify([...a].map(String).sort()) === JSON.stringify([...b].map(String).sort());
  }
  return JSON.stringify(a) === JSON.stringify(b);
}

function asRecord(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function show(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return `[${v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(', ')}]`;
  if (typeof v === 'object') return JSON.stringify(v);
  return JSON.stringify(v);
}

const SIGN: Record<ChangeAction, string> = {create: '+', update: '~', replace: '-/+', delete: '-'};

/** The summary as text for a person: one line per change, attributes under it, drift and what needs confirming. */
export function renderPlan(summary: PlanSummary, title: string, paint: (style: 'green' | 'yellow' | 'red' | 'bold' | 'dim', text: string) => string = (_s, t) => t): string {
  const lines: string[] = [];
  const {create, update, replace, delete: del} = summary.counts;
  lines.push(paint('bold', `${title}: ${summary.noChanges ? 'no changes' : `${create} to create, ${update} to update, ${replace} to replace, ${del} to delete`}`));
  const color = (a: ChangeAction) => (a === 'create' ? 'green' : a === 'update' ? 'yellow' : 'red') as 'green' | 'yellow' | 'red';
  const block = (items: ResourceChange[]) => {
    for (const c of items) {
      lines.push(`  ${paint(color(c.action), SIGN[c.action].padEnd(3))} ${c.object}  ${paint('dim', c.address)}`);
      for (const a of c.attributes) {
        lines.push(`        ${a.attribute}: ${a.before} → ${a.after}${a.forcesReplacement ? paint('red', '  (forces replacement)') : ''}`);
      }
    }
  };
  block(summary.changes);
  if (summary.drift.length > 0) {
    lines.push(paint('bold', 'Drift: changed outside Terraform since the last run (this plan puts it back):'));
    block(summary.drift);
  }
  if (summary.destructive.length > 0) {
    lines.push(paint('red', `Destroys ${summary.destructive.length}: ${summary.destructive.map((d) => d.object).join(', ')}`));
  }
  return lines.join('\n');
}
