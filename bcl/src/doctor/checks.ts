import type {CommandContext} from '../command/context.js';
import {BclError} from '../errors.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface DoctorCheck {
  /** Short name: "node", "config", "terraform", "svctl.clusters.prod". */
  name: string;
  status: CheckStatus;
  message: string;
  hint?: string;
}

/** A package's contribution to `bcl doctor` (declared in package.json as "bcl": {"doctor": "./dist/doctor.js"}). */
export type DoctorContribution = (ctx: CommandContext) => Promise<DoctorCheck[]>;

/** Checks that an external program runs and reports its version. Missing optional tools are warnings. */
export async function programCheck(
  ctx: CommandContext,
  spec: {name: string; command: string; args: string[]; required?: boolean; purpose: string; parse?: (output: string) => string | undefined; minimum?: string},
): Promise<DoctorCheck> {
  try {
    const res = await ctx.runner.run(spec.command, spec.args, {reject: false, timeoutMs: 10_000});
    const output = `${res.stdout}\n${res.stderr}`;
    const version = spec.parse?.(output) ?? output.match(/\d+\.\d+(\.\d+)?/)?.[0] ?? 'unknown version';
    if (res.exitCode !== 0 && !spec.parse?.(output)) {
      return {name: spec.name, status: spec.required ? 'fail' : 'warn', message: `${spec.command} exited ${res.exitCode}`};
    }
    if (spec.minimum && (await compareProgramVersions(version, spec.minimum)) < 0) {
      return {name: spec.name, status: 'fail', message: `${version} is older than the required ${spec.minimum}`, hint: `Upgrade ${spec.command}; it is used ${spec.purpose}.`};
    }
    return {name: spec.name, status: 'ok', message: version};
  } catch (error) {
    const notFound = error instanceof BclError && error.code === 'process.not_found';
    return {
      name: spec.name,
      status: spec.required ? 'fail' : 'warn',
      message: notFound ? 'not installed' : (error as Error).message,
      hint: `${spec.command} is used ${spec.purpose}.`,
    };
  }
}

/**
 * Compares versions as programs print them ("1.9", "v1.34.4", "2.42.0-rc.1") with semver, after
 * semver's own coercion: the one version comparison of the code base (distribution uses it strictly).
 * semver is imported here: every command loads this module (@bcl/core's index), and semver builds
 * its forty regular expressions as it loads, about 2 ms.
 */
export async function compareProgramVersions(a: string, b: string): Promise<number> {
  const [{default: coerce}, {default: compare}] = await Promise.all([import('semver/functions/coerce.js'), import('semver/functions/compare.js')]);
  const [ca, cb] = [coerce(a, {includePrerelease: true}), coerce(b, {includePrerelease: true})];
  if (!ca || !cb) return 0;
  return compare(ca, cb);
}

/** Whether an HTTP(S) endpoint answers at all (any status), within a short timeout. */
export async function endpointCheck(ctx: CommandContext, name: string, url: string): Promise<DoctorCheck> {
  const http = ctx.http({timeoutMs: 5000, retries: 0});
  try {
    const res = await http.request(url, {method: 'GET'});
    await res.text().catch(() => '');
    return {name, status: 'ok', message: `${http.showUrl(url)} answered ${res.status}`};
  } catch (error) {
    return {name, status: 'fail', message: (error as Error).message, hint: 'Check the URL in the configuration and that the service is up.'};
  } finally {
    await http.close();
  }
}
