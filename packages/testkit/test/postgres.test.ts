import {existsSync} from 'node:fs';
import {createConnection} from 'node:net';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {startPostgres, type PostgresServer} from '../src/index.js';

describe('the PostgreSQL harness', () => {
  let pg: PostgresServer;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    await pg?.stop();
  });

  it('starts a real server on 127.0.0.1 with password authentication', async () => {
    expect(pg.host).toBe('127.0.0.1');
    expect(await pg.psql('select 1 + 1')).toBe('2');
    expect(await pg.psql('show listen_addresses')).toBe('127.0.0.1');
    expect(Number(await pg.psql('show server_version_num'))).toBeGreaterThanOrEqual(Number(pg.version) * 10_000);
    await expect(pg.psql('select 1', {user: 'postgres', password: 'wrong'})).rejects.toThrow(/password authentication failed/);
  });

  it('serves roles created by a test', async () => {
    await pg.psql(`create role app login password 'app-secret-1'; create database appdb owner app;`);
    expect(await pg.psql('select current_user', {user: 'app', password: 'app-secret-1', database: 'appdb'})).toBe('app');
  });

  it('stops and removes its data directory', async () => {
    const other = await startPostgres();
    const {port, dataDir} = other;
    await other.stop();
    expect(existsSync(dataDir)).toBe(false);
    const refused = await new Promise<boolean>((resolve) => {
      const socket = createConnection({host: '127.0.0.1', port});
      socket.on('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.on('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  });
});
