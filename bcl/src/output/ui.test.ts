import {Writable} from 'node:stream';
import {describe, expect, it} from 'vitest';
import {Redactor} from '../process/redactor.js';
import {Ui} from './ui.js';

/**
 * A terminal as far as the board uses one: text, newlines, cursor up (CSI n A), erase below
 * (CSI 0J) and erase line (CSI 2K). What a person sees is `screen()`.
 */
class Terminal extends Writable {
  readonly isTTY = true;
  readonly columns = 60;
  readonly bytes: string[] = [];
  private rows: string[] = [''];
  private row = 0;
  private col = 0;

  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    const text = chunk.toString('utf8');
    this.bytes.push(text);
    for (let i = 0; i < text.length; i++) {
      const esc = /^\u001B\[(\d*)([AJK])/.exec(text.slice(i));
      if (esc) {
        const n = Number(esc[1] || 0);
        if (esc[2] === 'A') this.row = Math.max(0, this.row - (n || 1));
        if (esc[2] === 'J') this.rows = [...this.rows.slice(0, this.row), this.rows[this.row]!.slice(0, this.col)];
        if (esc[2] === 'K') this.rows[this.row] = '';
        i += esc[0].length - 1;
        continue;
      }
      if (text[i] === '\n') {
        this.row++;
        this.col = 0;
        this.rows[this.row] ??= '';
        continue;
      }
      const line = this.rows[this.row]!.padEnd(this.col);
      this.rows[this.row] = line.slice(0, this.col) + text[i] + line.slice(this.col + 1);
      this.col++;
    }
    done();
  }

  screen(): string[] {
    return this.rows.slice(0, this.row + (this.col > 0 ? 1 : 0));
  }
}

function ui(terminal: Terminal, redactor = new Redactor()): Ui {
  return new Ui({stderr: terminal, json: false, quiet: false, verbose: false, color: false, redactor});
}

describe('the progress board on a terminal', () => {
  it('prints warnings and notices above itself, and keeps its lines below them', () => {
    const term = new Terminal();
    const out = ui(term);
    const board = out.progress();
    const web = board.task('deployment/web', 'rolling out 1/3');
    board.task('deployment/worker', 'rolling out 0/2');
    out.warn('pod web-7f9 restarted (OOMKilled)');
    web.update('rolling out 2/3');
    out.info('waiting for the readiness probe');
    web.done(true, 'ready 3/3');
    board.stop();
    out.line('Deployed.');
    const screen = term.screen().map((l) => l.replace(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/, '*'));
    expect(screen).toEqual([
      'Warning: pod web-7f9 restarted (OOMKilled)',
      'waiting for the readiness probe',
      '✓ deployment/web: ready 3/3',
      '* deployment/worker: rolling out 0/2',
      'Deployed.',
    ]);
    // Each message with the board around it is one write: another writer cannot slip in between.
    expect(term.bytes.find((b) => b.includes('OOMKilled'))).toMatch(/^\u001B\[2A\u001B\[0JWarning: pod web-7f9 restarted \(OOMKilled\)\n. deployment\/web: rolling out 1\/3\n. deployment\/worker: rolling out 0\/2\n$/);
  });

  it('waits for a streamed line to end before drawing itself again, and redacts what it shows', () => {
    const term = new Terminal();
    const redactor = new Redactor();
    redactor.add('s3cr3t-token');
    const out = ui(term, redactor);
    const board = out.progress();
    const task = board.task('build #12', 'queued');
    out.write('[jenkins] cloning ');
    task.update('running');
    out.write('the repository: done\n');
    task.update('logging in with s3cr3t-token');
    board.stop();
    const screen = term.screen().map((l) => l.replace(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/, '*'));
    expect(screen).toEqual(['[jenkins] cloning the repository: done', `* build #12: logging in with ${redactor.redact('s3cr3t-token')}`]);
    expect(term.bytes.join('')).not.toContain('s3cr3t-token');
  });
});
