import {invalidInput} from '@bcl/core';
import {type IdentifierKind, identifierProblem, type MysqlServer} from '../identifiers.js';
import type {Engine} from './target.js';

/** A name given on the command line, and which argument or flag it came from. */
export interface GivenName {
  value: string | undefined;
  kind: IdentifierKind;
  /** "<name>" for an argument, "--database" for a flag. */
  from: string;
}

/** Exit 3 naming the argument or flag of the first name the engine cannot take. */
export function checkNames(names: readonly GivenName[], engine: Engine, server: MysqlServer | undefined): void {
  for (const given of names) {
    if (given.value === undefined) continue;
    const problem = identifierProblem(given.value, given.kind, engine, server);
    if (problem) {
      throw invalidInput('dbctl.invalid_name', `${given.from}: ${problem}`, {
        hint: 'Nothing was changed on the server. Choose a name the engine keeps as given (see docs/dbctl/db-spec.md, "Names").',
        details: {argument: given.from, kind: given.kind, engine},
      });
    }
  }
}

/** The GivenNames of a repeatable flag. */
export function namesOf(values: readonly string[] | undefined, kind: IdentifierKind, from: string): GivenName[] {
  return (values ?? []).map((value) => ({value, kind, from}));
}
