import {readFileSync, statSync} from 'node:fs';
import {join} from 'node:path';
import {BclError, ExitCode, invalidInput} from '@bcl/core/errors';
import type {ServiceSpec} from '@bcl/deploy-core/spec';

/** A service as svapp's catalog has it: the spec svapp trusts for its team and namespaces. */
export interface CatalogEntry {
  file: string;
  spec: ServiceSpec;
}

const NAME = /^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$/;

/**
 * The service catalog: a directory of service specs (`<name>.yaml` or `<name>/service.yaml`), the
 * copies svapp trusts, kept by the platform team (a ConfigMap, or a checkout of the services'
 * main branches). A service's team and its namespace in each environment come from here, never
 * from the spec a client sends, so editing `team` in a checkout claims nothing. Files are read
 * when they change (size and modification time), so an edit counts at the next request.
 */
export class ServiceCatalog {
  readonly #cache = new Map<string, {key: string; entry: CatalogEntry | BclError}>();

  constructor(readonly dir: string) {}

  /** The service's catalog entry; exit 3 (404) when svapp does not know it, naming the directory. */
  async get(name: string): Promise<CatalogEntry> {
    if (!NAME.test(name)) throw invalidInput('svapp.unknown_service', `"${name}" is not a service name (lower-case letters, digits and "-")`);
    for (const file of [join(this.dir, `${name}.yaml`), join(this.dir, name, 'service.yaml')]) {
      let stat;
      try {
        stat = statSync(file);
      } catch {
        continue;
      }
      const key = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
      const cached = this.#cache.get(file);
      if (cached?.key === key) {
        if (cached.entry instanceof BclError) throw cached.entry;
        return cached.entry;
      }
      const entry = await load(file, name);
      this.#cache.set(file, {key, entry});
      if (entry instanceof BclError) throw entry;
      return entry;
    }
    throw invalidInput('svapp.unknown_service', `svapp knows no service ${name}: its catalog (${this.dir}) has no ${name}.yaml or ${name}/service.yaml`, {
      hint: `The platform team adds the service's spec to svapp's catalog before its first deploy through svapp.`,
      details: {service: name},
    });
  }
}

async function load(file: string, name: string): Promise<CatalogEntry | BclError> {
  const {parseSpec} = await import('@bcl/deploy-core/spec');
  try {
    const spec = parseSpec(readFileSync(file), file);
    if (spec.name !== name) {
      return new BclError('svapp.catalog_invalid', `svapp's catalog is inconsistent: ${file} describes service ${spec.name}, not ${name}`, ExitCode.unavailable, {hint: 'Ask the platform team to fix the catalog file (its name must be the service name).'});
    }
    return {file, spec};
  } catch (error) {
    const e = error as BclError;
    return new BclError('svapp.catalog_invalid', `svapp's catalog entry of ${name} cannot be used: ${e.message}`, ExitCode.unavailable, {hint: 'Ask the platform team to fix the catalog file named above.', details: e.details});
  }
}
