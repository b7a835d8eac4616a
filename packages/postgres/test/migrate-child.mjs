// One "replica" starting up: opens the database and migrates to the latest schema, then prints
// the migrations it applied itself as JSON. Run by migrate.test.ts, several at once.
import {migrateToLatest, openDatabase, sql} from '../dist/index.js';

const [url, table] = process.argv.slice(2);
const migrations = {
  '0001-runs': {
    async up(db) {
      await sql`create table migration_runs (migration text not null, pid int not null)`.execute(db);
      // Long enough that every replica arrives while the first one is still migrating.
      await sql`select pg_sleep(1)`.execute(db);
      await sql`insert into migration_runs values ('0001-runs', ${process.pid})`.execute(db);
    },
  },
  '0002-items': {
    async up(db) {
      await sql`create table items (id int generated always as identity primary key, name text not null unique)`.execute(db);
      await sql`insert into migration_runs values ('0002-items', ${process.pid})`.execute(db);
    },
  },
};
const database = openDatabase({url, applicationName: 'migrate-child'});
try {
  const applied = await migrateToLatest(database.db, {migrations, ...(table ? {tableName: table} : {})});
  process.stdout.write(`${JSON.stringify({pid: process.pid, applied})}\n`);
} catch (error) {
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 1;
} finally {
  await database.close();
}
