import type {z} from 'zod';

/**
 * The paths of objects in a request schema that would silently drop unknown fields (`z.object`
 * strips them): every object a client sends must be `z.strictObject`, so a misspelt or newer
 * field is a 400 naming it instead of being ignored. Checked when a route is registered.
 */
export function lenientObjectPaths(schema: z.ZodType, path = ''): string[] {
  const seen = new Set<unknown>();
  const out: string[] = [];
  const walk = (s: unknown, at: string) => {
    const def = (s as {_zod?: {def?: Record<string, unknown>}})?._zod?.def;
    if (!def || seen.has(s)) return;
    seen.add(s);
    switch (def.type) {
      case 'object': {
        const catchall = (def.catchall as {_zod?: {def?: {type?: string}}} | undefined)?._zod?.def?.type;
        if (catchall !== 'never') out.push(at || '(root)');
        for (const [key, value] of Object.entries(def.shape as Record<string, unknown>)) walk(value, at ? `${at}.${key}` : key);
        return;
      }
      case 'array':
        return walk(def.element, `${at}[]`);
      case 'union':
        for (const option of def.options as unknown[]) walk(option, at);
        return;
      case 'intersection':
        walk(def.left, at);
        walk(def.right, at);
        return;
      case 'record':
        return walk(def.valueType, `${at}.*`);
      case 'tuple':
        (def.items as unknown[]).forEach((item, i) => walk(item, `${at}[${i}]`));
        return;
      case 'pipe':
        return walk(def.in, at);
      case 'optional':
      case 'nullable':
      case 'default':
      case 'prefault':
      case 'nonoptional':
      case 'readonly':
      case 'catch':
        return walk(def.innerType, at);
      default:
        return;
    }
  };
  walk(schema, path);
  return out;
}
