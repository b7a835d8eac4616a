import {homedir} from 'node:os';
import {isAbsolute, join} from 'node:path';

/** Where BCL keeps state: always XDG directories under HOME, so tests and CI run isolated. */
export interface BclPaths {
  home: string;
  /** $XDG_CONFIG_HOME/bcl */
  config: string;
  /** $XDG_DATA_HOME/bcl */
  data: string;
  /** $XDG_CACHE_HOME/bcl */
  cache: string;
  /** $XDG_STATE_HOME/bcl */
  state: string;
  /** The user config file: $XDG_CONFIG_HOME/bcl/config.yaml */
  userConfigFile: string;
  /** The system config file: /etc/bcl/config.yaml (BCL_SYSTEM_CONFIG overrides, for packaging and tests). */
  systemConfigFile: string;
}

export type Env = Record<string, string | undefined>;

function xdg(env: Env, name: string, home: string, fallback: string): string {
  const value = env[name];
  // The XDG spec says relative paths are invalid and must be ignored.
  return value && isAbsolute(value) ? value : join(home, fallback);
}

export function bclPaths(env: Env = process.env): BclPaths {
  const home = env.HOME && isAbsolute(env.HOME) ? env.HOME : homedir();
  const config = join(xdg(env, 'XDG_CONFIG_HOME', home, '.config'), 'bcl');
  return {
    home,
    config,
    data: join(xdg(env, 'XDG_DATA_HOME', home, '.local/share'), 'bcl'),
    cache: join(xdg(env, 'XDG_CACHE_HOME', home, '.cache'), 'bcl'),
    state: join(xdg(env, 'XDG_STATE_HOME', home, '.local/state'), 'bcl'),
    userConfigFile: join(config, 'config.yaml'),
    systemConfigFile: env.BCL_SYSTEM_CONFIG || '/etc/bcl/config.yaml',
  };
}

/** A tool's own directory inside one of the XDG roots, e.g. toolDir(paths.data, 'pkictl'). */
export function toolDir(root: string, tool: string): string {
  return join(root, tool);
}
