import type {z} from 'zod';

/** The configuration namespaces of the platform: `bcl` itself and one per tool. */
export const KNOWN_NAMESPACES = ['bcl', 'svctl', 'dbctl', 'pkictl', 'csshctl'] as const;
export type NamespaceName = (typeof KNOWN_NAMESPACES)[number];

/** A namespace's schema, registered by the plugin that owns it. */
export interface ConfigNamespace<S extends z.ZodType = z.ZodType> {
  readonly name: NamespaceName;
  /** The schema (built on first use when the namespace was defined with a function). */
  readonly schema: S;
  /** One line for `bcl config list` and the docs. */
  readonly summary: string;
  /**
   * The value of the namespace when no layer sets any of its keys: exactly what the schema makes
   * of `{}` (a test checks it for every namespace). With it, a command validates every namespace
   * it knows without building the schemas of those nobody configured.
   */
  readonly defaults?: z.output<S>;
}

/**
 * A namespace from its schema, or from a function that builds it: every command validates every
 * namespace it can find (docs/decisions.md), and building a zod schema costs about a millisecond
 * per dozen keys, so a tool's schema is built only when some layer sets one of its keys.
 */
export function defineNamespace<S extends z.ZodType>(name: NamespaceName, schema: S | (() => S), summary: string, options: {defaults?: z.output<S>} = {}): ConfigNamespace<S> {
  let built: S | undefined = typeof schema === 'function' ? undefined : schema;
  const build = schema as () => S;
  return {
    name,
    summary,
    ...(options.defaults === undefined ? {} : {defaults: options.defaults}),
    get schema() {
      built ??= build();
      return built;
    },
  };
}

export function isKnownNamespace(name: string): name is NamespaceName {
  return (KNOWN_NAMESPACES as readonly string[]).includes(name);
}
