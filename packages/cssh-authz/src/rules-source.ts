import type {Logger} from './log.js';
import {AccessRules, rulesSchema} from './rules.js';
import {loadYamlFile} from './yaml-file.js';

/**
 * The current access rules, reloaded on demand (file change, SIGHUP). A file that does not
 * validate keeps the rules in force and logs why: a typo must never lock everyone out.
 */
export class RulesSource {
  private rules: AccessRules;
  private loadedAt: Date;

  constructor(
    readonly file: string,
    private readonly defaultMaxTtlSeconds: number,
    private readonly log: Logger,
  ) {
    // At start an invalid file is fatal (thrown): there are no previous rules to keep.
    this.rules = new AccessRules(loadYamlFile(file, rulesSchema), defaultMaxTtlSeconds);
    this.loadedAt = new Date();
  }

  get current(): AccessRules {
    return this.rules;
  }

  /** Loads the file again; returns whether the new rules are in force. */
  reload(why: string): boolean {
    try {
      this.rules = new AccessRules(loadYamlFile(this.file, rulesSchema), this.defaultMaxTtlSeconds);
      this.loadedAt = new Date();
      this.log.info(`rules: reloaded ${this.file} (${why}): ${this.rules.summary()}`);
      return true;
    } catch (error) {
      this.log.error(`rules: ${(error as Error).message}; keeping the rules loaded at ${this.loadedAt.toISOString()}`);
      return false;
    }
  }
}
