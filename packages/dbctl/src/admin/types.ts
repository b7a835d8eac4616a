import type {MysqlServer} from '../identifiers.js';
import type {AccessProfile} from '../spec/schema.js';
import type {Engine} from './target.js';

/** One line of "who can do what", read from the server's catalogs. */
export interface AccessRow {
  user: string;
  /** null for server-wide rights (superuser, role membership). */
  database: string | null;
  schema: string | null;
  /** "server", "role <name>", "database", "schema", "table <name>", "sequence <name>", "default privileges on tables (created by <role>)"... */
  object: string;
  privileges: string[];
  /** The group role the privileges come through, when not granted to the user directly. */
  via?: string;
  /** MySQL/MariaDB: the host part of the account. */
  host?: string;
}

export interface AccessFilter {
  database?: string | undefined;
  user?: string | undefined;
}

export interface DropUserOptions {
  /** Give the objects the user owns to this role before dropping it (PostgreSQL). */
  reassignTo?: string | undefined;
  /** Drop the objects the user owns (after reassigning, nothing is left to drop). */
  dropOwned?: boolean;
}

/**
 * What dbctl does on a server, the same for every engine. Every operation is idempotent: creating
 * what exists or dropping what does not is reported, not an error. Multi-statement operations run
 * in one transaction where the engine allows it (PostgreSQL; MySQL commits DDL implicitly).
 */
export interface DatabaseAdmin {
  readonly engine: Engine;
  serverVersion(): Promise<string>;
  /** MySQL-family engines: which server this is (MySQL or MariaDB) and its version, for its exact name limits. */
  mysqlServer?(): Promise<MysqlServer>;
  createDatabase(name: string, owner?: string): Promise<{created: boolean}>;
  dropDatabase(name: string, force?: boolean): Promise<{dropped: boolean}>;
  createSchema(database: string, name: string, owner?: string): Promise<{created: boolean}>;
  dropSchema(database: string, name: string, cascade: boolean): Promise<{dropped: boolean}>;
  userExists(name: string): Promise<boolean>;
  /** Creates a login role with this password (sent as a verifier/hash where the engine allows). */
  createUser(name: string, password: string): Promise<void>;
  /** Sets the user's access on a database (and schemas) to exactly what the profile grants. */
  applyProfile(user: string, profile: AccessProfile, database: string, schemas?: string[]): Promise<{schemas: string[]}>;
  /** Removes the user's access on a database (or only on some schemas). */
  revokeAccess(user: string, database: string, schemas?: string[]): Promise<{schemas: string[]}>;
  setPassword(user: string, password: string): Promise<void>;
  dropUser(name: string, options: DropUserOptions): Promise<{dropped: boolean; reassigned: number; droppedObjects: number}>;
  listAccess(filter: AccessFilter): Promise<AccessRow[]>;
  close(): Promise<void>;
}
