import type {z} from 'zod';

/** The configuration namespaces of the platform: `bcl` itself and one per tool. */
export const KNOWN_NAMESPACES = ['bcl', 'svctl', 'dbctl', 'pkictl', 'csshctl'] as const;
export type NamespaceName = (typeof KNOWN_NAMESPACES)[number];

/** A namespace's schema, registered by the plugin that owns it. */
export interface ConfigNamespace<S extends z.ZodType = z.ZodType> {
  readonly name: NamespaceName;
  readonly schema: S;
  /** One line for `bcl config list` and the docs. */
  readonly summary: string;
}

export function defineNamespace<S extends z.ZodType>(name: NamespaceName, schema: S, summary: string): ConfigNamespace<S> {
  return {name, schema, summary};
}

export function isKnownNamespace(name: string): name is NamespaceName {
  return (KNOWN_NAMESPACES as readonly string[]).includes(name);
}
