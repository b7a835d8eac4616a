import {describe, expect, it} from 'vitest';
import {chooseReusable} from './reuse.js';
import type {Slot, SlotMeta} from './store.js';

const NOW = new Date('2030-01-01T12:00:00Z');
const at = (offsetSeconds: number) => new Date(NOW.getTime() + offsetSeconds * 1000).toISOString();

function slot(name: string, meta: Partial<SlotMeta> = {}): Slot {
  return {
    name,
    dir: `/fake/${name}`,
    keyPath: `/fake/${name}/id`,
    publicKeyPath: `/fake/${name}/id.pub`,
    certPath: `/fake/${name}/id-cert.pub`,
    meta: {
      version: 1,
      slot: name,
      server: 'https://authz.example.com',
      host: null,
      serial: '1',
      keyId: 'ann@example.com/1',
      principals: ['ops'],
      validAfter: at(-60),
      validBefore: at(3600),
      extensions: [],
      criticalOptions: {},
      sshKey: null,
      issuedAt: at(-60),
      ...meta,
    },
  };
}

/** The store as the rule sees it: slots by name, nothing on disk. */
const storeOf = (...slots: Slot[]) => ({get: (name: string) => slots.find((s) => s.name === name)});
const wanted = {slots: ['host-web1', 'default'], principal: 'ops', server: 'https://authz.example.com', renewBeforeSeconds: 120};

describe('which stored certificate csshctl reuses', () => {
  it("prefers the host's slot, then the default one", () => {
    const host = slot('host-web1');
    expect(chooseReusable(storeOf(host, slot('default')), NOW, wanted).slot).toBe(host);
    const fallback = slot('default');
    expect(chooseReusable(storeOf(fallback), NOW, wanted).slot).toBe(fallback);
  });

  it('passes over expired, not yet valid, nearly expired, other-principal and other-server certificates, saying why', () => {
    const cases: [Partial<SlotMeta>, RegExp][] = [
      [{validBefore: at(-1)}, /expired/],
      [{validAfter: at(30)}, /not-yet-valid/],
      [{validBefore: at(119)}, /119s left, less than csshctl.renewBefore \(120s\)/],
      [{principals: ['deploy']}, /not for ops \(deploy\)/],
      [{server: 'https://old.example.com'}, /issued by https:\/\/old.example.com/],
    ];
    for (const [meta, why] of cases) {
      const decision = chooseReusable(storeOf(slot('host-web1', meta)), NOW, wanted);
      expect(decision.slot).toBeUndefined();
      expect(decision.passedOver).toEqual([expect.stringMatching(why)]);
    }
  });

  it('reuses a certificate with exactly renewBefore left, and any principal when none is wanted', () => {
    expect(chooseReusable(storeOf(slot('host-web1', {validBefore: at(120)})), NOW, wanted).slot?.name).toBe('host-web1');
    expect(chooseReusable(storeOf(slot('default', {principals: ['deploy']})), NOW, {slots: ['default'], renewBeforeSeconds: 120}).slot?.name).toBe('default');
  });

  it('finds nothing in an empty store', () => {
    expect(chooseReusable(storeOf(), NOW, wanted)).toEqual({slot: undefined, passedOver: []});
  });
});
