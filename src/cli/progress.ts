// Progress of a long scoring run: a bar redrawn in place on a terminal, plain periodic lines in a log.

export interface ProgressCounts {
  /** Input lines read so far (scored, skipped as malformed, or already in the output). */
  lines: number;
  scored: number;
  valid: number;
}

const pct = (part: number, whole: number) => (whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '-');

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h > 0 ? `${h}:${String(m).padStart(2, '0')}` : m}:${String(s % 60).padStart(2, '0')}`;
}

export class Progress {
  private readonly started = performance.now();
  private lastDraw = this.started;
  private readonly startLines: number;

  /**
   * `total`: input lines; `resumedAt`: lines already done before this run (the rate counts only this
   * run's); on a TTY the bar is redrawn at most every 200 ms, otherwise a line every `everyS` seconds.
   */
  constructor(
    private readonly total: number,
    resumedAt: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly everyS = 10,
  ) {
    this.startLines = resumedAt;
  }

  private get tty(): boolean {
    return this.stream.isTTY === true;
  }

  update(c: ProgressCounts, final = false): void {
    const now = performance.now();
    if (!final && now - this.lastDraw < (this.tty ? 200 : this.everyS * 1000)) return;
    this.lastDraw = now;
    const seconds = (now - this.started) / 1000;
    const rate = (c.lines - this.startLines) / Math.max(seconds, 1e-3);
    const eta = duration((this.total - c.lines) / rate);
    const stats = `${c.lines.toLocaleString('en')}/${this.total.toLocaleString('en')} lines  ${Math.round(rate).toLocaleString('en')} items/s  ETA ${eta}  valid ${pct(c.valid, c.scored)}`;
    if (this.tty) {
      const width = 30;
      const filled = this.total > 0 ? Math.min(width, Math.round((width * c.lines) / this.total)) : 0;
      this.stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pct(c.lines, this.total).padStart(6)}  ${stats}\x1b[K${final ? '\n' : ''}`);
    } else {
      this.stream.write(`progress: ${pct(c.lines, this.total)}  ${stats}\n`);
    }
  }
}
