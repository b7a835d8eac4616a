import type {AccessProfile} from './schema.js';

/**
 * What each access profile means, as least-privilege grants. Direct administration and the
 * Terraform generators both read these tables, so a profile means the same through either path.
 * Lists are explicit (never ALL) so that reading privileges back from the catalogs compares equal.
 */
export interface PostgresGrants {
  database: string[];
  schema: string[];
  tables: string[];
  sequences: string[];
}

export const POSTGRES_PROFILES: Record<AccessProfile, PostgresGrants> = {
  readonly: {database: ['CONNECT'], schema: ['USAGE'], tables: ['SELECT'], sequences: ['SELECT']},
  readwrite: {
    database: ['CONNECT', 'TEMPORARY'],
    schema: ['USAGE'],
    tables: ['DELETE', 'INSERT', 'SELECT', 'UPDATE'],
    sequences: ['SELECT', 'UPDATE', 'USAGE'],
  },
  owner: {
    database: ['CONNECT', 'CREATE', 'TEMPORARY'],
    schema: ['CREATE', 'USAGE'],
    tables: ['DELETE', 'INSERT', 'REFERENCES', 'SELECT', 'TRIGGER', 'TRUNCATE', 'UPDATE'],
    sequences: ['SELECT', 'UPDATE', 'USAGE'],
  },
};

/** MySQL/MariaDB: privileges on `db`.* (they apply to tables created later too). */
export const MYSQL_PROFILES: Record<AccessProfile, string[]> = {
  readonly: ['SELECT', 'SHOW VIEW'],
  readwrite: ['CREATE TEMPORARY TABLES', 'DELETE', 'EXECUTE', 'INSERT', 'LOCK TABLES', 'SELECT', 'SHOW VIEW', 'UPDATE'],
  owner: ['ALL PRIVILEGES'],
};

/** Whether a profile lets its role create objects (its objects then get default privileges for the others). */
export const createsObjects = (profile: AccessProfile): boolean => profile === 'owner';
