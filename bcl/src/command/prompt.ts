import {usageError} from '../errors.js';

export interface PromptSpec {
  message: string;
  /** The flag that gives the same input without a prompt, named in the non-interactive error. */
  flag: string;
}

/**
 * Asks a person for input, on stderr, only when interactive. Non-interactive (CI=true, stdin
 * not a TTY, or --non-interactive), a missing input is an exit-2 error naming the flag.
 */
export class Prompter {
  private decided?: {interactive: boolean; why: string};

  /**
   * `decide` runs on first use: asking whether stdin is a terminal creates process.stdin, which
   * loads Node's stream and fs.promises modules, a few milliseconds most commands never need.
   */
  constructor(private readonly decide: () => {interactive: boolean; why: string}) {}

  get interactive(): boolean {
    this.decided ??= this.decide();
    return this.decided.interactive;
  }

  private get why(): string {
    this.decided ??= this.decide();
    return this.decided.why;
  }

  async text(spec: PromptSpec & {default?: string}): Promise<string> {
    this.require(spec);
    const {input} = await import('@inquirer/prompts');
    return input({message: spec.message, default: spec.default, required: true}, {output: process.stderr});
  }

  async password(spec: PromptSpec): Promise<string> {
    this.require(spec);
    const {password} = await import('@inquirer/prompts');
    return password({message: spec.message, mask: true}, {output: process.stderr});
  }

  async confirm(spec: PromptSpec & {default?: boolean}): Promise<boolean> {
    this.require(spec);
    const {confirm} = await import('@inquirer/prompts');
    return confirm({message: spec.message, default: spec.default ?? false}, {output: process.stderr});
  }

  /** Asks the person to type a value (a resource name) to confirm a destructive change. */
  async typeToConfirm(spec: PromptSpec & {expected: string}): Promise<boolean> {
    this.require(spec);
    const {input} = await import('@inquirer/prompts');
    const answer = await input({message: `${spec.message} Type "${spec.expected}" to confirm:`}, {output: process.stderr});
    return answer.trim() === spec.expected;
  }

  private require(spec: PromptSpec): void {
    if (!this.interactive) {
      throw usageError(`${spec.message.replace(/[?:]\s*$/, '')}: give ${spec.flag} (not prompting: ${this.why})`, {
        hint: `Pass ${spec.flag} on the command line.`,
        details: {flag: spec.flag},
      }, 'usage.missing_input');
    }
  }
}

/** Why this run is (non-)interactive, in the user's words. */
export function interactivity(env: Record<string, string | undefined>, stdinIsTTY: boolean, flag: boolean): {interactive: boolean; why: string} {
  if (flag) return {interactive: false, why: '--non-interactive'};
  if (env.CI && env.CI !== 'false' && env.CI !== '0') return {interactive: false, why: 'CI is set'};
  if (!stdinIsTTY) return {interactive: false, why: 'stdin is not a terminal'};
  return {interactive: true, why: 'interactive terminal'};
}
