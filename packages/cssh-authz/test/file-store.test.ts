import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {storeContract} from './store-contract.js';
import {FileStore} from '../src/store/file-store.js';

storeContract('the state directory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cssh-store-'));
  const options = {stateDir: join(dir, 'state'), auditLog: join(dir, 'audit.jsonl'), now: () => new Date('2030-06-01T12:00:00Z')};
  return {
    store: await FileStore.open(options),
    reopen: () => FileStore.open(options),
    async auditOf() {
      const text = (() => {
        try {
          return readFileSync(options.auditLog, 'utf8');
        } catch {
          return '';
        }
      })();
      return text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    },
    async remove() {
      rmSync(dir, {recursive: true, force: true});
    },
  };
});
