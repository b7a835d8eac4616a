#!/usr/bin/env node
// Starts a PostgreSQL for the svapp part of the demo (`./scripts/demo`), with the machine's server
// binaries through the testkit harness: a database "svapp", its owner (for migrations) and the
// restricted role svapp runs as. Writes the two connection strings as shell assignments to the
// file given (mode 0600: they hold passwords), and runs until SIGTERM, then stops the server.
import {randomBytes} from 'node:crypto';
import {writeFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const {startPostgres} = await import(pathToFileURL(join(root, 'packages/testkit/dist/postgres.js')).href);
const pg = await startPostgres();
const password = randomBytes(16).toString('hex');
await pg.psql('create database svapp');
await pg.psql(`create role svapp_app login password '${password}'`);
const ownerUrl = pg.url.replace(/\/postgres$/, '/svapp');
const appUrl = ownerUrl.replace(`${pg.user}:${encodeURIComponent(pg.password)}@`, `svapp_app:${password}@`);
writeFileSync(process.argv[2], `SVAPP_DATABASE_URL='${appUrl}'\nSVAPP_MIGRATE_URL='${ownerUrl}'\nSVAPP_PG_PORT=${pg.port}\n`, {mode: 0o600});
const stop = async () => {
  await pg.stop();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
setInterval(() => undefined, 1 << 30);
