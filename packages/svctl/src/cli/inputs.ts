import {type CommandContext, usageError} from '@bcl/core';
import type {ValidationMemo} from '@bcl/core/validated';
import {type ClusterSettings, findSpecFile, type LoadedSpec, loadSpec} from '@bcl/deploy-core/spec';

/** The environment a command works on: --env, else svctl.defaultEnv; exit 2 naming --env when neither. */
export function environmentOf(ctx: CommandContext): string {
  const env = ctx.config.get('svctl.defaultEnv');
  if (typeof env === 'string' && env) return env;
  throw usageError('no environment given: pass --env <env> (or set svctl.defaultEnv)', {
    hint: 'Environments are mapped to kubeconfig contexts by svctl.clusters.<env>.context.',
  });
}

/** svctl.clusters from the configuration. */
export function clustersOf(ctx: CommandContext): Record<string, ClusterSettings> {
  return (ctx.config.get('svctl.clusters') as Record<string, ClusterSettings> | undefined) ?? {};
}

/** The specs named on the command line (files or directories), or ./service.yaml. */
export function loadSpecs(cwd: string, args: readonly string[], memo?: ValidationMemo): LoadedSpec[] {
  const files = args.length > 0 ? args.map((a) => findSpecFile(cwd, a)) : [findSpecFile(cwd)];
  const specs = [...new Set(files)].map((f) => loadSpec(f, memo));
  const seen = new Map<string, string>();
  for (const s of specs) {
    const other = seen.get(s.spec.name);
    if (other) throw usageError(`two specs name the same service ${s.spec.name}: ${other} and ${s.path}`, {hint: 'Pass each service once.'});
    seen.set(s.spec.name, s.path);
  }
  return specs;
}

/** The effective specs of an environment for the specs named on the command line. */
export async function environmentSpecs(ctx: CommandContext, args: readonly string[], environment: string) {
  const {resolveEnvironment} = await import('@bcl/deploy-core/spec');
  const clusters = clustersOf(ctx);
  return loadSpecs(ctx.cwd, args, ctx.validations).map((s) => resolveEnvironment(s.spec, environment, clusters));
}
