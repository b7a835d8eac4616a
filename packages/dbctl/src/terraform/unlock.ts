import {join} from 'node:path';
import {type CommandContext, conflict, invalidInput} from '@bcl/core';
import type {DbctlSettings} from '../config.js';
import {type AuditSink, audited} from '../audit/record.js';
import {type Confirmer, confirmDestructive} from '../safety/confirm.js';
import {findTerraform, lockStoreOf, stateOf, workRoot} from './flow.js';
import {type LockInfo, lockHolderText} from './lock.js';
import {Terraform} from './terraform.js';

export interface UnlockResult {
  instance: string;
  lockId: string;
  released: boolean;
  /** The lock that was released (dbctl's), with its holder. */
  lock?: LockInfo;
  /** gcs/s3: Terraform's own lock of that id was released too. */
  terraformLock?: boolean;
}

export interface UnlockInput {
  ctx: CommandContext;
  settings: DbctlSettings;
  instance: string;
  lockId: string;
  yes: boolean;
  confirmer: Confirmer;
  audit: AuditSink;
}

/** Releases a lock whose holder is gone: the id must match, a live holder is refused, and a person confirms. */
export async function unlockInstance(input: UnlockInput): Promise<UnlockResult> {
  const {ctx, settings, instance, lockId} = input;
  if (!/^[a-z][a-z0-9-]*[a-z0-9]$/.test(instance)) {
    throw invalidInput('dbctl.invalid_instance', `<instance>: "${instance}" is not an instance name (the spec's name, or <name>-<env>)`, {details: {argument: '<instance>'}});
  }
  const workDir = join(workRoot({ctx, settings}), instance);
  const state = stateOf(ctx, settings, instance, workDir);
  const store = lockStoreOf(state);
  try {
    const current = await store.holder();
    const remote = state.type === 'gcs' || state.type === 's3';
    if (!current && !remote) return {instance, lockId, released: false};
    if (current && current.lock.id !== lockId && !remote) {
      throw conflict('dbctl.lock_id_mismatch', `${instance} is locked by ${lockHolderText(current.lock)}, not by lock ${lockId}; nothing was released`, {
        hint: 'Give the lock id that the refused run reported.',
        details: {lock: current.lock},
      });
    }
    if (current?.lock.id === lockId && current.alive) {
      throw conflict('dbctl.lock_held', `${instance} is locked by a run that is still going: ${lockHolderText(current.lock)}; nothing was released`, {
        hint: 'Wait for it to finish (or stop it); its lock ends with it.',
        details: {lock: current.lock},
      });
    }
    await confirmDestructive(input.confirmer, {
      what: `Releasing the lock of ${instance}${current ? ` held by ${current.lock.who} (${current.lock.operation}, since ${current.lock.created})` : ''} lets the next run apply over whatever that run left half done`,
      expected: instance,
      flag: '--yes',
      confirmed: input.yes,
      code: 'dbctl.not_confirmed',
      nothingDone: 'nothing was released',
    });
    return await audited(input.audit, {as: 'terraform', operation: 'unlock', server: instance, target: {lockId, holder: current?.lock.who, state: state.describe}}, async () => {
      if (current?.lock.id === lockId) await store.forceRelease(lockId);
      let terraformLock = false;
      if (remote && current?.lock.id !== lockId) {
        const tf = new Terraform({runner: ctx.runner, binary: findTerraform(settings, ctx.env), cwd: workDir, env: state.env, lockTimeout: '0s', timeoutMs: 120_000, signal: ctx.signal});
        await tf.forceUnlock(lockId);
        terraformLock = true;
      }
      return {instance, lockId, released: true, ...(current?.lock.id === lockId ? {lock: current.lock} : {}), ...(terraformLock ? {terraformLock} : {})};
    });
  } finally {
    await store.close();
  }
}
