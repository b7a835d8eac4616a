import {describe, expect, it} from 'vitest';
import {identifierProblem, mysqlUserLimit} from './identifiers.js';

describe('identifier rules per engine', () => {
  it('PostgreSQL: 63 bytes, counted in UTF-8', () => {
    expect(identifierProblem('a'.repeat(63), 'role', 'postgres')).toBeUndefined();
    expect(identifierProblem('a'.repeat(64), 'database', 'postgres')).toContain('64 bytes long');
    expect(identifierProblem('é'.repeat(31) + 'a', 'role', 'postgres')).toBeUndefined();
    expect(identifierProblem('é'.repeat(32), 'role', 'postgres')).toContain('64 bytes long');
  });

  it('PostgreSQL: reserved role and schema names, not database names', () => {
    expect(identifierProblem('pg_monitor2', 'role', 'postgres')).toContain('reserved');
    expect(identifierProblem('public', 'role', 'postgres')).toContain('reserved');
    expect(identifierProblem('none', 'role', 'postgres')).toContain('reserved');
    expect(identifierProblem('PUBLIC', 'role', 'postgres')).toBeUndefined();
    expect(identifierProblem('pg_stuff', 'schema', 'postgres')).toContain('reserved');
    expect(identifierProblem('pg_stuff', 'database', 'postgres')).toBeUndefined();
  });

  it('refuses empty names and NUL everywhere; the anonymous account is named', () => {
    expect(identifierProblem('', 'database', 'postgres')).toBe('an empty name is not allowed');
    expect(identifierProblem('', 'role', 'mysql')).toContain('anonymous account');
    expect(identifierProblem('a\u0000b', 'role', 'mysql')).toContain('NUL');
  });

  it('MySQL and MariaDB: characters, not bytes; user limits by server and version', () => {
    expect(identifierProblem('é'.repeat(64), 'database', 'mysql')).toBeUndefined();
    expect(identifierProblem('d'.repeat(65), 'database', 'mysql')).toContain('at most 64');
    expect(identifierProblem('shop ', 'database', 'mysql')).toContain('cannot end with a space');
    expect(identifierProblem('😀', 'role', 'mysql')).toContain('beyond U+FFFF');
    expect(mysqlUserLimit({flavor: 'mysql', version: '8.0.36'})).toBe(32);
    expect(mysqlUserLimit({flavor: 'mysql', version: '5.7.7'})).toBe(16);
    expect(mysqlUserLimit({flavor: 'mariadb', version: '10.11.19-MariaDB-0+deb12u1'})).toBe(128);
    expect(mysqlUserLimit({flavor: 'mariadb', version: '10.5.2-MariaDB'})).toBe(80);
    expect(mysqlUserLimit('portable')).toBe(32);
    expect(identifierProblem('u'.repeat(128), 'role', 'mysql')).toBeUndefined();
    expect(identifierProblem('u'.repeat(129), 'role', 'mysql')).toContain('at most 128 characters on any MySQL or MariaDB server');
    expect(identifierProblem('u'.repeat(33), 'role', 'mysql', {flavor: 'mysql', version: '8.0.36'})).toContain('at most 32 characters on MySQL 8.0.36');
  });
});
