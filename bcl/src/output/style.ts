import {styleText} from 'node:util';
import type {Env} from '../paths.js';

export type Style = 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'cyan' | 'gray';

/** Colour only on a TTY, never with NO_COLOR or --no-color or TERM=dumb; FORCE_COLOR forces it. */
export function colorEnabled(stream: {isTTY?: boolean}, env: Env, flag: boolean): boolean {
  if (!flag) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  if (env.TERM === 'dumb') return false;
  return Boolean(stream.isTTY);
}

export type Painter = (style: Style | Style[], text: string) => string;

export function painter(enabled: boolean): Painter {
  if (!enabled) return (_style, text) => text;
  return (style, text) => styleText(style, text, {validateStream: false});
}

/** Display width of a string, ignoring ANSI escapes. */
export function displayWidth(text: string): number {
  // eslint-disable-next-line no-control-regex
  return [...text.replace(/\u001B\[[0-9;]*m/g, '')].length;
}
