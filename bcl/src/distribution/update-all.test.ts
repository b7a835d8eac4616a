import {rejection} from '@bcl/testkit';
import {describe, expect, it} from 'vitest';
import {BclError, ExitCode, unavailable} from '../errors.js';
import type {CheckOutcome, InstallOutcome, InstallRequest} from './installer.js';
import {type UpdateAllIo, type UpdateAllRequest, updateAll} from './update-all.js';

// The loop of `bcl update` with fake I/O: which tools it touches, in what order, what it says
// and what it returns or throws (release.e2e.test.ts runs it against real installs).
function fakeIo(installed: string[], behaviour: {fail?: Record<string, BclError>; channels?: Record<string, string>; prepare?: () => void} = {}) {
  const calls: string[] = [];
  const said: string[] = [];
  const outcome = (r: InstallRequest): InstallOutcome => ({tool: r.tool, channel: r.channel, from: '1.0.0', to: '1.1.0', action: 'updated', downloaded: true, path: `/t/${r.tool}/1.1.0`, shim: `/b/${r.tool}`, removed: []});
  const io: UpdateAllIo = {
    toolsDir: '/data/bcl/tools',
    installed: () => installed,
    prepare: () => {
      calls.push('prepare');
      behaviour.prepare?.();
    },
    recordedChannel: (tool) => behaviour.channels?.[tool],
    defaultChannel: 'stable',
    currentVersion: () => '1.0.0',
    check: async (tool, channel, current): Promise<CheckOutcome> => {
      calls.push(`check ${tool} ${channel} ${current}`);
      if (behaviour.fail?.[tool]) throw behaviour.fail[tool];
      return {tool, channel, current, latest: '1.1.0', updateAvailable: true, published: 'p', expires: 'e'};
    },
    install: async (request) => {
      calls.push(`install ${request.tool} ${request.channel}${request.allowDowngrade ? ' allow-downgrade' : ''}`);
      if (behaviour.fail?.[request.tool]) throw behaviour.fail[request.tool];
      return outcome(request);
    },
    rollback: async (tool) => {
      calls.push(`rollback ${tool}`);
      return {...outcome({tool, channel: 'stable', channelExplicit: false, force: false, allowDowngrade: false}), action: 'rolled back'};
    },
    ui: {info: (m) => said.push(`info: ${m}`), success: (m) => said.push(`ok: ${m}`), warn: (m) => said.push(`warn: ${m}`)},
  };
  return {io, calls, said};
}

const ask = (extra: Partial<UpdateAllRequest> = {}): UpdateAllRequest => ({named: [], check: false, rollback: false, allowDowngrade: false, background: false, ...extra});

const failure = (promise: Promise<unknown>) => rejection(promise, BclError);

describe('bcl update (the loop)', () => {
  it('updates every installed tool from the channel it follows, saying so for each', async () => {
    const {io, calls, said} = fakeIo(['dbctl', 'svctl'], {channels: {svctl: 'beta'}});
    const result = await updateAll(ask({allowDowngrade: true}), io);
    expect(calls).toEqual(['prepare', 'install dbctl stable allow-downgrade', 'install svctl beta allow-downgrade']);
    expect(result.tools.map((t) => [t.tool, t.ok, t.outcome?.to])).toEqual([
      ['dbctl', true, '1.1.0'],
      ['svctl', true, '1.1.0'],
    ]);
    expect(said).toEqual(['ok: dbctl updated: 1.0.0 -> 1.1.0', 'ok: svctl updated: 1.0.0 -> 1.1.0']);
  });

  it('one failing tool does not stop the others; the failure carries the first exit code and every result', async () => {
    const down = unavailable('http.timeout', 'GET https://store/channels/stable/dbctl.json timed out after 30s');
    const {io, calls, said} = fakeIo(['dbctl', 'pkictl', 'svctl'], {fail: {dbctl: down}});
    const e = await failure(updateAll(ask(), io));
    expect(calls).toEqual(['prepare', 'install dbctl stable', 'install pkictl stable', 'install svctl stable']);
    expect(e.code).toBe('update.some_failed');
    expect(e.exitCode).toBe(ExitCode.unavailable);
    expect(e.message).toBe('1 of 3 tools could not be updated: dbctl');
    expect((e.details as {tools: {tool: string; ok: boolean}[]}).tools.map((t) => [t.tool, t.ok])).toEqual([
      ['dbctl', false],
      ['pkictl', true],
      ['svctl', true],
    ]);
    expect(said).toContain(`warn: dbctl: ${down.message}`);
  });

  it('a single tool that fails fails with its own error; a named tool that is not installed is a usage error', async () => {
    const refused = new BclError('update.signature_invalid', 'signature check failed', ExitCode.denied);
    const one = fakeIo(['svctl'], {fail: {svctl: refused}});
    expect(await failure(updateAll(ask({named: ['svctl']}), one.io))).toBe(refused);
    const missing = fakeIo(['svctl']);
    const e = await failure(updateAll(ask({named: ['csshctl']}), missing.io));
    expect(e).toMatchObject({exitCode: ExitCode.usage, message: 'csshctl is not installed in /data/bcl/tools', hint: 'Install it with: bcl install csshctl'});
    expect(missing.calls).toEqual(['prepare']);
  });

  it('--check reads channels without installing; the background check is bcl alone', async () => {
    const {io, calls} = fakeIo(['bcl', 'svctl']);
    const checked = await updateAll(ask({check: true}), io);
    expect(calls).toEqual(['prepare', 'check bcl stable 1.0.0', 'check svctl stable 1.0.0']);
    expect(checked.tools.map((t) => t.check?.updateAvailable)).toEqual([true, true]);
    calls.length = 0;
    await updateAll(ask({background: true, named: ['svctl']}), io);
    expect(calls).toEqual(['prepare', 'check bcl stable 1.0.0']);
  });

  it('--rollback takes exactly one tool and never reads the store', async () => {
    const {io, calls} = fakeIo(['dbctl', 'svctl']);
    expect((await failure(updateAll(ask({rollback: true}), io))).exitCode).toBe(ExitCode.usage);
    expect((await failure(updateAll(ask({rollback: true, named: ['dbctl', 'svctl']}), io))).message).toBe('--rollback needs exactly one tool name');
    const result = await updateAll(ask({rollback: true, named: ['svctl']}), io);
    expect(result.tools).toMatchObject([{tool: 'svctl', ok: true, outcome: {action: 'rolled back'}}]);
    expect(calls).toEqual(['rollback svctl']);
  });

  it('with nothing installed says how to install and changes nothing; an unusable store stops it before any tool', async () => {
    const empty = fakeIo([]);
    expect(await updateAll(ask(), empty.io)).toEqual({tools: []});
    expect(empty.said).toEqual(['info: no tool is installed in /data/bcl/tools; install one with: bcl install <tool>']);
    expect(empty.calls).toEqual([]);
    const noStore = new BclError('update.no_store', 'bcl.update.store is not set', ExitCode.invalid);
    const unset = fakeIo(['dbctl', 'svctl'], {prepare: () => {
      throw noStore;
    }});
    expect(await failure(updateAll(ask(), unset.io))).toBe(noStore);
    expect(unset.calls).toEqual(['prepare']);
  });

  it('Ctrl-C stops the loop: the remaining tools are not started', async () => {
    const {io, calls} = fakeIo(['dbctl', 'svctl'], {fail: {dbctl: new BclError('interrupted', 'interrupted', ExitCode.interrupted)}});
    expect((await failure(updateAll(ask(), io))).exitCode).toBe(ExitCode.interrupted);
    expect(calls).toEqual(['prepare', 'install dbctl stable']);
  });
});
