import {describe, expect, it} from 'vitest';
import {BclError} from '../errors.js';
import {Args, Flags} from './definitions.js';
import {parseCommandLine, type ParseInput} from './parse.js';

const flags = {
  env: Flags.string({char: 'e', options: ['dev', 'prod']}),
  tag: Flags.string({multiple: true}),
  count: Flags.integer({min: 1, max: 5, default: 2}),
  verbose: Flags.boolean({char: 'v'}),
  quiet: Flags.boolean({char: 'q', exclusive: ['verbose']}),
  color: Flags.boolean({allowNo: true, default: true}),
  token: Flags.string({env: 'TEST_TOKEN'}),
  yes: Flags.boolean({dependsOn: ['env']}),
  name: Flags.string({required: true}),
};

const parse = (argv: string[], more: Partial<ParseInput> = {}) =>
  parseCommandLine(argv, {flags: structuredCloneFlags(), args: {target: Args.string({required: false})}, strict: true, env: {}, ...more});

// Definitions get their names set by the parser; each test gets fresh ones.
function structuredCloneFlags(): ParseInput['flags'] {
  return Object.fromEntries(Object.entries(flags).map(([k, v]) => [k, {...v}])) as ParseInput['flags'];
}

async function refusal(promise: Promise<unknown>): Promise<BclError> {
  try {
    await promise;
  } catch (error) {
    return error as BclError;
  }
  throw new Error('expected a usage error');
}

describe('the command-line parser', () => {
  it('reads long, short, grouped and = forms, with defaults', async () => {
    const r = await parse(['--name', 'n', '-eprod', 'svc', '-v', '--count=3']);
    expect(r.flags).toEqual({name: 'n', env: 'prod', verbose: true, count: 3, color: true});
    expect(r.args).toEqual({target: 'svc'});
    expect((await parse(['--name=a=b', '-e', 'dev'])).flags).toMatchObject({name: 'a=b', env: 'dev'});
    expect((await parse(['--name', 'n', '--no-color'])).flags.color).toBe(false);
    const grouped = await parseCommandLine(['-ab'], {flags: {a: Flags.boolean({char: 'a'}), b: Flags.boolean({char: 'b'})}, args: {}, strict: true, env: {}});
    expect(grouped.flags).toEqual({a: true, b: true});
  });

  it('lets a multiple flag take the values that follow it, as oclif does', async () => {
    const r = await parse(['--name', 'n', '--tag', 'a', 'b', '--tag', 'c']);
    expect(r.flags.tag).toEqual(['a', 'b', 'c']);
    expect(r.args).toEqual({});
    const nonGreedy = await parseCommandLine(['--key', 'a', 'dir'], {flags: {key: Flags.string({multiple: true, multipleNonGreedy: true})}, args: {dir: Args.string()}, strict: true, env: {}});
    expect(nonGreedy).toMatchObject({flags: {key: ['a']}, args: {dir: 'dir'}});
  });

  it('stops reading flags at --, and keeps - and negative numbers as arguments', async () => {
    const r = await parse(['--name', 'n', 'x', '--', '--not-a-flag', '-5'], {strict: false});
    expect(r.argv).toEqual(['x', '--not-a-flag', '-5']);
    expect((await parse(['--name', 'n', '-'])).args).toEqual({target: '-'});
  });

  it('takes a flag from its environment variable when it is absent', async () => {
    expect((await parse(['--name', 'n'], {env: {TEST_TOKEN: 's3cret'}})).flags.token).toBe('s3cret');
    expect((await parse(['--name', 'n', '--token', 'flag'], {env: {TEST_TOKEN: 's3cret'}})).flags.token).toBe('flag');
  });

  it('refuses with usage errors (exit 2) that say what was wrong', async () => {
    const cases: [string[], string][] = [
      [['--name', 'n', '--nope'], 'Nonexistent flag: --nope'],
      [[], 'Missing required flag --name'],
      [['--name', 'n', '-e', 'staging'], 'Expected --env=staging to be one of: dev, prod'],
      [['--name', 'n', '--count', 'x'], 'Parsing --count: Expected an integer but received: x'],
      [['--name', 'n', '--count', '9'], 'Parsing --count: Expected an integer less than or equal to 5 but received: 9'],
      [['--name', 'n', '-v', '-q'], '--verbose cannot also be provided when using --quiet'],
      [['--name', 'n', '--yes'], 'All of the following must be provided when using --yes: --env'],
      [['--name', 'n', 'a', 'b'], 'Unexpected argument: b'],
      [['--name', 'n', '--env'], 'Flag --env expects one of these values: dev, prod'],
      [['--name', 'n', '--name', 'm'], 'Flag --name can only be specified once'],
    ];
    for (const [argv, message] of cases) {
      const error = await refusal(parse(argv));
      expect(error, argv.join(' ')).toBeInstanceOf(BclError);
      expect(error.exitCode).toBe(2);
      expect(error.message).toBe(message);
    }
  });

  it('names every missing required argument', async () => {
    const error = await refusal(parseCommandLine([], {flags: {}, args: {key: Args.string({required: true}), value: Args.string({required: true})}, strict: true, env: {}}));
    expect(error.message).toBe('Missing 2 required arguments: key, value');
  });
});
