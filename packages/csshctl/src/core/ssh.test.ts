import {describe, expect, it} from 'vitest';
import {splitSshArgs, sshArgs} from './ssh.js';

describe('what follows -- in csshctl ssh', () => {
  it('separates ssh options (with their values) from the remote command, as ssh parses them', () => {
    expect(splitSshArgs(['-p', '2222', '-o', 'ServerAliveInterval=30', '-A', 'uptime', '-l'])).toEqual({options: ['-p', '2222', '-o', 'ServerAliveInterval=30', '-A'], command: ['uptime', '-l']});
    expect(splitSshArgs(['-p2222', '-vvL', '8080:localhost:80', '-N'])).toEqual({options: ['-p2222', '-vvL', '8080:localhost:80', '-N'], command: []});
    expect(splitSshArgs(['-t', '--', '-rf'])).toEqual({options: ['-t'], command: ['-rf']});
    expect(splitSshArgs(['ls', '-la'])).toEqual({options: [], command: ['ls', '-la']});
  });

  it('refuses what ssh would refuse, saying where the options go', () => {
    expect(() => splitSshArgs(['-p'])).toThrow(/-p needs a value/);
    expect(() => splitSshArgs(['-Z'])).toThrow(/unknown ssh option -Z/);
  });

  it('puts the certificate options first and the command after the destination', () => {
    expect(sshArgs('/k/id', '/k/id-cert.pub', ['-p', '22'], 'ops@web1', ['uptime'])).toEqual([
      '-o', 'IdentityFile=/k/id', '-o', 'CertificateFile=/k/id-cert.pub', '-o', 'IdentitiesOnly=yes', '-p', '22', 'ops@web1', 'uptime',
    ]);
  });
});
