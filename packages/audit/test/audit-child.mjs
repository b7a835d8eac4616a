// One server process writing audit entries: "pg <url> <n> <name>" appends n entries, each in a
// transaction with the change it records; "file <path> <n> <name>" appends to a JSON-lines file.
// The JSON lines it emits go to stdout.
import {FileAuditLog, PostgresAuditLog} from '../dist/index.js';
import {openDatabase, sql} from '../../postgres/dist/index.js';

const [mode, target, count, name] = process.argv.slice(2);
const n = Number(count);
const stream = {write: (line) => process.stdout.write(line)};
if (mode === 'pg') {
  const database = openDatabase({url: target, max: 4});
  const audit = new PostgresAuditLog({stream});
  try {
    await Promise.all(
      Array.from({length: 4}, async (_, worker) => {
        for (let i = worker; i < n; i += 4) {
          await audit.transaction(database.db, async (trx, record) => {
            await sql`insert into changes (writer, i) values (${name}, ${i})`.execute(trx);
            await record({event: 'thing.changed', actor: `${name}@example.com`, i});
          });
        }
      }),
    );
  } finally {
    await database.close();
  }
} else {
  const log = new FileAuditLog(target, {stream});
  await Promise.all(Array.from({length: n}, (_, i) => log.append({event: 'thing.changed', actor: `${name}@example.com`, i})));
}
