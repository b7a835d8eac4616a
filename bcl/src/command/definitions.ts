/**
 * Flag and argument definitions of BCL commands. The objects have the shape of oclif's own (type
 * `option`/`boolean`, char, summary, options, multiple, default, required, exclusive, dependsOn,
 * allowNo, env...), so oclif still writes the manifest and renders the help pages at build time,
 * while a command runs on BCL's own small parser (parse.ts) without loading oclif at all: oclif's
 * flag builders alone import its help system, which costs more than a whole `config list`.
 */

/** What a flag or argument parse function may use: the command running. */
export interface ParseContext {
  readonly argv?: readonly string[];
}

interface Described {
  name?: string;
  summary?: string;
  description?: string;
  hidden?: boolean;
}

interface FlagCommon<T> extends Described {
  char?: string;
  helpGroup?: string;
  helpLabel?: string;
  /** An environment variable that gives the value when the flag is absent. */
  env?: string;
  required?: boolean;
  /** Flags that may not be given together with this one. */
  exclusive?: string[];
  /** Flags that must be given when this one is. */
  dependsOn?: string[];
  aliases?: string[];
  charAliases?: string[];
  /** The value type, for inference only. */
  readonly __value?: T;
}

export type DefaultValue<T> = T | ((context: {flags: Record<string, unknown>}) => Promise<T>);

export interface BooleanFlag<T = boolean | undefined> extends FlagCommon<T> {
  type: 'boolean';
  /** Also accept --no-<name> (false). */
  allowNo: boolean;
  default?: DefaultValue<boolean>;
  parse(input: boolean, context: ParseContext, flag: BooleanFlag<T>): Promise<unknown>;
}

export interface OptionFlag<T = string | undefined> extends FlagCommon<T> {
  type: 'option';
  helpValue?: string;
  /** The flag may be given several times (and takes the values that follow it, as oclif does). */
  multiple: boolean;
  /** With multiple: only the value right after each occurrence is taken. */
  multipleNonGreedy?: boolean;
  /** The values accepted, checked before `parse`. */
  options?: readonly string[];
  default?: DefaultValue<unknown>;
  /** Integer flags: bounds. */
  min?: number;
  max?: number;
  parse(input: string, context: ParseContext, flag: OptionFlag<T>): Promise<unknown>;
}

export type FlagDefinition = BooleanFlag<unknown> | OptionFlag<unknown>;

export interface ArgDefinition<T = string | undefined> extends Described {
  required?: boolean;
  options?: readonly string[];
  default?: DefaultValue<unknown>;
  multiple?: boolean;
  parse(input: string, context: ParseContext, arg: ArgDefinition<T>): Promise<unknown>;
  readonly __value?: T;
}

/** The value of a flag as the command sees it: required or defaulted flags are always set. */
type Resolved<O, T> = O extends {required: true} ? T : O extends {default: unknown} ? T : T | undefined;
type Many<O, T> = O extends {multiple: true} ? T[] : T;

type OptionOptions = Omit<Partial<OptionFlag<never>>, 'type' | 'parse' | '__value' | 'name'> & {default?: unknown};
type BooleanOptions = Omit<Partial<BooleanFlag<never>>, 'type' | 'parse' | '__value' | 'name'>;

/** A flag whose value is parsed from its text by `parse` (like oclif's Flags.custom). */
function custom<T>(defaults: {parse: (input: string, context: ParseContext, flag: OptionFlag<T>) => Promise<T>} & OptionOptions) {
  return <const O extends OptionOptions = {}>(options?: O): OptionFlag<Resolved<O, Many<O, T>>> =>
    ({
      ...defaults,
      ...options,
      multiple: Boolean(options?.multiple ?? defaults.multiple ?? false),
      type: 'option',
    }) as unknown as OptionFlag<Resolved<O, Many<O, T>>>;
}

function string<const O extends OptionOptions = {}>(options?: O): OptionFlag<Resolved<O, Many<O, string>>> {
  return custom<string>({parse: async (input) => input})(options);
}

const integerFlag = custom<number>({
  async parse(input, _context, flag) {
    if (!/^-?\d+$/.test(input)) throw new Error(`Expected an integer but received: ${input}`);
    const value = Number.parseInt(input, 10);
    if (flag.min !== undefined && value < flag.min) throw new Error(`Expected an integer greater than or equal to ${flag.min} but received: ${input}`);
    if (flag.max !== undefined && value > flag.max) throw new Error(`Expected an integer less than or equal to ${flag.max} but received: ${input}`);
    return value;
  },
});

function integer<const O extends OptionOptions = {}>(options?: O): OptionFlag<Resolved<O, Many<O, number>>> {
  return integerFlag(options);
}

function boolean<const O extends BooleanOptions = {}>(options?: O): BooleanFlag<Resolved<O, boolean>> {
  return {parse: async (input: boolean) => input, ...options, allowNo: Boolean(options?.allowNo), type: 'boolean'} as unknown as BooleanFlag<Resolved<O, boolean>>;
}

export const Flags = {string, integer, boolean, custom};

type ArgOptions = Omit<Partial<ArgDefinition<never>>, 'parse' | '__value' | 'name'> & {default?: unknown};

function argString<const O extends ArgOptions = {}>(options?: O): ArgDefinition<Resolved<O, string>> {
  return {parse: async (input: string) => input, ...options} as unknown as ArgDefinition<Resolved<O, string>>;
}

export const Args = {string: argString};

/** The values a set of flag definitions gives a command. */
export type FlagValues<F> = {[K in keyof F]: F[K] extends {readonly __value?: infer T} ? T : never};
/** The values of a command's arguments. */
export type ArgValues<A> = {[K in keyof A]: A[K] extends {readonly __value?: infer T} ? T : never};
