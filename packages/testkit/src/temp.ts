import {chmodSync, mkdirSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

/** A fresh directory under the system temp dir; `remove()` deletes it. */
export function tempDir(prefix = 'bcl-test-'): {path: string; remove(): void} {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {path, remove: () => rmSync(path, {recursive: true, force: true})};
}

export interface IsolatedHome {
  /** The temp HOME. */
  home: string;
  /** HOME and XDG_* variables pointing inside it, plus CI=true (never prompt). */
  env: Record<string, string>;
  xdg: {config: string; data: string; cache: string; state: string};
  remove(): void;
}

/** A temp HOME with its own XDG directories, so a CLI run sees no user configuration or state. */
export function isolatedHome(): IsolatedHome {
  const dir = tempDir('bcl-home-');
  const xdg = {
    config: join(dir.path, '.config'),
    data: join(dir.path, '.local/share'),
    cache: join(dir.path, '.cache'),
    state: join(dir.path, '.local/state'),
  };
  for (const d of Object.values(xdg)) mkdirSync(d, {recursive: true});
  chmodSync(dir.path, 0o755);
  return {
    home: dir.path,
    xdg,
    env: {
      HOME: dir.path,
      XDG_CONFIG_HOME: xdg.config,
      XDG_DATA_HOME: xdg.data,
      XDG_CACHE_HOME: xdg.cache,
      XDG_STATE_HOME: xdg.state,
      BCL_SYSTEM_CONFIG: join(dir.path, 'etc-bcl-config.yaml'),
      BCL_DISABLE_UPDATE_CHECK: '1',
      CI: 'true',
    },
    remove: dir.remove,
  };
}
