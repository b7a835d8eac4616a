import type {Writable} from 'node:stream';
import type {BclError} from '../errors.js';
import type {Redactor} from '../process/redactor.js';
import {type Painter, painter} from './style.js';
import {type Column, renderKeyValue, renderTable} from './table.js';

export interface UiOptions {
  stderr: Writable & {isTTY?: boolean; columns?: number};
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  color: boolean;
  redactor: Redactor;
  now?: () => Date;
}

/**
 * Everything a command tells a person goes through here, to stderr: notices, warnings, phases,
 * tables, progress. In --json mode nothing is shown unless stderr is a TTY; warnings are also
 * collected for the JSON envelope. Every line passes through the redactor.
 */
export class Ui {
  readonly warnings: string[] = [];
  readonly paint: Painter;
  private readonly now: () => Date;
  /** The live progress board on screen, which other output goes above. */
  private board: ProgressBoard | undefined;
  /** The last raw write ended inside a line: the board waits for its end before drawing again. */
  private midLine = false;

  constructor(private readonly options: UiOptions) {
    this.paint = painter(options.color);
    this.now = options.now ?? (() => new Date());
  }

  get isTTY(): boolean {
    return Boolean(this.options.stderr.isTTY);
  }

  /**
   * The same Ui with another clock for its timestamped lines (what a server recorded: when an
   * event happened there). Warnings still go to this Ui's list (the JSON envelope's).
   */
  withClock(now: () => Date): Ui {
    const ui = new Ui({...this.options, now});
    Object.defineProperty(ui, 'warnings', {value: this.warnings});
    return ui;
  }

  get verbose(): boolean {
    return this.options.verbose;
  }

  /** Whether notices are shown at all: never with --quiet, and in --json mode only on a TTY. */
  get showsNotices(): boolean {
    if (this.options.quiet) return false;
    return !this.options.json || this.isTTY;
  }

  /** Writes raw text to stderr (redacted), regardless of mode: for streamed logs the user asked for. */
  write(text: string): void {
    if (text === '') return;
    this.above(this.options.redactor.redact(text));
  }

  info(message: string): void {
    if (this.showsNotices) this.line(message);
  }

  /** A phase heading of a long operation ("Deploying", "Verifying"). */
  step(message: string): void {
    if (this.showsNotices) this.line(this.paint('bold', `==> ${message}`));
  }

  success(message: string): void {
    if (this.showsNotices) this.line(`${this.paint('green', '✓')} ${message}`);
  }

  warn(message: string): void {
    const redacted = this.options.redactor.redact(message);
    this.warnings.push(redacted);
    if (!this.options.json || this.isTTY) this.line(`${this.paint('yellow', 'Warning:')} ${redacted}`);
  }

  debug(message: string): void {
    if (this.options.verbose && (!this.options.json || this.isTTY)) this.line(this.paint('dim', `[debug] ${message}`));
  }

  table<R>(rows: readonly R[], columns: readonly Column<R>[]): void {
    if (this.showsNotices) this.line(renderTable(rows, columns, this.paint));
  }

  keyValue(value: Record<string, unknown>): void {
    if (this.showsNotices) this.line(renderKeyValue(value, this.paint));
  }

  error(error: BclError, stack?: string): void {
    const lines = [`${this.paint(['red', 'bold'], 'Error:')} ${error.message}`];
    if (error.hint) lines.push(`${this.paint('cyan', 'Hint:')} ${error.hint}`);
    if (stack && this.options.verbose) lines.push(this.paint('dim', stack));
    this.line(lines.join('\n'));
  }

  /** A live progress board for long operations (one line per task). */
  progress(): ProgressBoard {
    return new ProgressBoard(this, this.isTTY && this.showsNotices && !this.options.json, this.showsNotices, this.now);
  }

  /** A line on stderr, redacted (above the live progress board, if one is on screen). */
  line(text: string): void {
    this.above(`${this.options.redactor.redact(text)}\n`);
  }

  /**
   * Output while a live board is on screen goes above it: the board is erased, the text written,
   * and the board drawn again below, in one write so nothing interleaves.
   */
  private above(text: string): void {
    const board = this.board;
    const endsLine = text.endsWith('\n');
    if (!board) {
      this.options.stderr.write(text);
    } else {
      const erase = this.midLine ? '' : board.erase();
      this.options.stderr.write(erase + text + (endsLine ? board.render() : ''));
    }
    this.midLine = !endsLine;
  }

  /** @internal ProgressBoard: takes the bottom of the screen. */
  attachBoard(board: ProgressBoard): void {
    this.board = board;
  }

  /** @internal ProgressBoard: gives it back; what follows is printed below the board's last state. */
  detachBoard(board: ProgressBoard): void {
    if (this.board === board) this.board = undefined;
  }

  /** @internal ProgressBoard: draws itself in place, unless a raw write left a line open. */
  drawBoard(board: ProgressBoard): void {
    if (this.board !== board || this.midLine) return;
    this.options.stderr.write(board.erase() + board.render());
  }

  get columns(): number {
    return this.options.stderr.columns ?? 100;
  }

  /** Text as it may be shown: registered secrets removed. */
  redact(text: string): string {
    return this.options.redactor.redact(text);
  }
}

export interface ProgressTask {
  update(text: string): void;
  done(ok: boolean, text?: string): void;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * On a TTY, a block of lines (one per task) redrawn in place with a spinner, at the bottom of
 * what the command prints: notices and warnings written meanwhile appear above it. Elsewhere,
 * plain timestamped lines, printed when a task's text changes, so CI logs stay readable.
 */
export class ProgressBoard {
  private readonly tasks: {name: string; text: string; state: 'running' | 'ok' | 'failed'}[] = [];
  private drawn = 0;
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ui: Ui,
    private readonly live: boolean,
    private readonly visible: boolean,
    private readonly now: () => Date,
  ) {}

  task(name: string, text = 'starting'): ProgressTask {
    const entry = {name, text, state: 'running' as 'running' | 'ok' | 'failed'};
    this.tasks.push(entry);
    this.changed(entry);
    return {
      update: (next) => {
        if (next === entry.text || entry.state !== 'running') return;
        entry.text = next;
        this.changed(entry);
      },
      done: (ok, next) => {
        if (entry.state !== 'running') return;
        entry.state = ok ? 'ok' : 'failed';
        if (next) entry.text = next;
        this.changed(entry);
      },
    };
  }

  /** Stops redrawing; the last state stays on screen, and output continues below it. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (!this.live) return;
    this.ui.drawBoard(this);
    this.ui.detachBoard(this);
  }

  /** @internal Ui: moves the cursor back to where the board starts and clears it to the end. */
  erase(): string {
    const out = this.drawn > 0 ? `\u001B[${this.drawn}A\u001B[0J` : '';
    this.drawn = 0;
    return out;
  }

  /** @internal Ui: the board's lines (redacted), one per task. */
  render(): string {
    this.frame = (this.frame + 1) % SPINNER.length;
    const p = this.ui.paint;
    const width = Math.max(20, this.ui.columns - 1);
    const lines = this.tasks.map((t) => {
      const mark = t.state === 'ok' ? p('green', '✓') : t.state === 'failed' ? p('red', '✗') : p('cyan', SPINNER[this.frame]!);
      const text = `${t.name}: ${t.text}`;
      return `${mark} ${text.length > width - 2 ? `${text.slice(0, width - 3)}…` : text}`;
    });
    this.drawn = lines.length;
    return this.ui.redact(lines.map((l) => `${l}\n`).join(''));
  }

  private changed(entry: {name: string; text: string; state: string}): void {
    if (!this.visible) return;
    if (!this.live) {
      const mark = entry.state === 'ok' ? 'done: ' : entry.state === 'failed' ? 'FAILED: ' : '';
      this.ui.line(`${this.now().toISOString()} ${entry.name}: ${mark}${entry.text}`);
      return;
    }
    if (!this.timer) {
      this.ui.attachBoard(this);
      this.timer = setInterval(() => this.ui.drawBoard(this), 100).unref();
    }
    this.ui.drawBoard(this);
  }
}
