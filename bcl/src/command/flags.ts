import {Flags} from './definitions.js';

const GLOBAL = 'GLOBAL';

/** --json: the result as one JSON document on stdout (what oclif's enableJsonFlag adds, for the help pages). */
export const jsonFlag = Flags.boolean({description: 'Format output as json.', helpGroup: GLOBAL});

/** The flags every command of every BCL tool accepts, besides --json. */
export const globalFlags = {
  profile: Flags.string({summary: 'Configuration profile to use (default: BCL_PROFILE).', helpGroup: GLOBAL}),
  config: Flags.string({summary: 'Extra configuration file, read above the project .bcl.yaml.', helpGroup: GLOBAL}),
  'non-interactive': Flags.boolean({
    summary: 'Never prompt; missing input is an error (implied by CI=true or a non-TTY stdin).',
    helpGroup: GLOBAL,
  }),
  verbose: Flags.boolean({char: 'v', summary: 'Show debug output, and stack traces on errors.', helpGroup: GLOBAL}),
  quiet: Flags.boolean({char: 'q', summary: 'Only print the result and errors.', helpGroup: GLOBAL, exclusive: ['verbose']}),
  color: Flags.boolean({summary: 'Colour output on a terminal (NO_COLOR is honoured).', allowNo: true, default: true, helpGroup: GLOBAL}),
};

/** Parses a duration such as "90s", "5m", "1h30m" or "2d" into milliseconds; undefined when invalid. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(trimmed); m; m = re.exec(trimmed)) {
    const n = Number(m[1]);
    total += n * {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}[m[2] as 'ms'];
    matched = re.lastIndex;
  }
  return matched === trimmed.length && matched > 0 ? total : undefined;
}

/** A flag taking a duration ("30s", "5m", "1h"), parsed to milliseconds. */
export const durationFlag = Flags.custom<number>({
  parse: async (input, _ctx, opts) => {
    const ms = parseDuration(input);
    if (ms === undefined || ms <= 0) throw new Error(`--${opts.name}: expected a duration such as 30s, 5m or 1h, got "${input}"`);
    return ms;
  },
});
