import {existsSync} from 'node:fs';
import {homedir} from 'node:os';
import {join} from 'node:path';

/**
 * The hadolint binary installed by scripts/lib/svctl-obs.sh (BCL_HADOLINT, else its cache path).
 * Throws naming the script when it is missing: such tests never skip.
 */
export function hadolintPath(): string {
  const candidates = [process.env.BCL_HADOLINT, join(cacheDir(), 'hadolint-2.15.1', 'hadolint')].filter((p): p is string => Boolean(p));
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`hadolint is not installed (looked at ${candidates.join(', ')}); run ./scripts/test, or source scripts/lib/common.sh and scripts/lib/svctl-obs.sh and call ensure_svctl_obs`);
  return found;
}

/** promtool from Debian's prometheus package. */
export function promtoolPath(): string {
  const candidates = [process.env.BCL_PROMTOOL, '/usr/bin/promtool'].filter((p): p is string => Boolean(p));
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error('promtool is not installed; run ./scripts/test (it installs Debian\'s prometheus package)');
  return found;
}

/** kube-score built by scripts/lib/svctl-obs.sh (BCL_KUBE_SCORE, else its cache path). */
export function kubeScorePath(): string {
  const candidates = [process.env.BCL_KUBE_SCORE, join(cacheDir(), 'kube-score-v1.20.0', 'kube-score')].filter((p): p is string => Boolean(p));
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`kube-score is not installed (looked at ${candidates.join(', ')}); run ./scripts/test, or source scripts/lib/common.sh and scripts/lib/svctl-obs.sh and call ensure_kube_score`);
  return found;
}

function cacheDir(): string {
  return process.env.BCL_TESTKIT_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'bcl-testkit');
}
