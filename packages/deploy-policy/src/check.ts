import {formatKeyPath, SpecError} from '@bcl/spec-loader';
import {parseArgs} from 'node:util';
import {checkPolicyFile, summarizePolicy} from './policy.js';

export interface CheckPolicyIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export const CHECK_POLICY_USAGE = 'Usage: svapp check-policy FILE [--json]';

/**
 * `svapp check-policy FILE [--json]`, for the CI of the policy repository: exit 0 when the file
 * is a valid policy, 3 with every problem (`file:line:column: key.path: message`, the lines the
 * running server logs for the same file) when not, 2 for a usage error.
 */
export function runCheckPolicy(args: readonly string[], io: CheckPolicyIo): number {
  let file: string;
  let json = false;
  try {
    const {values, positionals} = parseArgs({args: [...args], strict: true, allowPositionals: true, options: {json: {type: 'boolean'}}});
    json = values.json === true;
    if (positionals.length !== 1) throw new Error(positionals.length === 0 ? 'missing the policy file' : `one policy file at a time (got ${positionals.length})`);
    file = positionals[0]!;
  } catch (error) {
    return fail(io, json || args.includes('--json'), 2, {code: 'usage', message: (error as Error).message, hint: CHECK_POLICY_USAGE});
  }
  const result = checkPolicyFile(file);
  if (!result.ok) {
    const error = new SpecError(file, result.problems, result.reason);
    return fail(io, json, 3, {
      code: 'policy.invalid',
      message: error.message,
      hint: result.reason === 'unreadable' ? 'give the path of the policy file' : 'fix the file; a running svapp keeps the policy in force until the file validates',
      details: {
        file,
        reason: result.reason,
        problems: result.problems.map((p) => ({path: formatKeyPath(p.path), ...(p.line === undefined ? {} : {line: p.line, column: p.column ?? 1}), message: p.message})),
      },
    });
  }
  const {policy} = result;
  const summary = summarizePolicy(policy);
  if (json) io.stdout(`${JSON.stringify({ok: true, result: {file, sha256: policy.source.sha256, summary, rules: policy.rules.map((r) => r.id)}, warnings: []})}\n`);
  else io.stdout(`${file}: valid (${summary})\n`);
  return 0;
}

function fail(io: CheckPolicyIo, json: boolean, exitCode: number, error: {code: string; message: string; hint: string; details?: unknown}): number {
  if (json) io.stdout(`${JSON.stringify({ok: false, error, warnings: []})}\n`);
  else io.stderr(`Error: ${error.message}\nHint: ${error.hint}\n`);
  return exitCode;
}
