/** A progress bar on stderr: redrawn in place on a terminal, a line every few seconds otherwise. */
export class ProgressBar {
  private readonly total: number;
  private readonly label: string;
  private readonly tty: boolean;
  private readonly startedMs = Date.now();
  private lastLineMs = 0;
  private lastDrawMs = 0;
  private enabled: boolean;

  constructor(label: string, total: number, options: { enabled?: boolean } = {}) {
    this.label = label;
    this.total = total;
    this.tty = Boolean(process.stderr.isTTY);
    this.enabled = options.enabled ?? true;
  }

  /** Shows `done` of total, with an optional note (e.g. the front size). */
  update(done: number, note = ''): void {
    if (!this.enabled) return;
    const now = Date.now();
    const elapsedS = (now - this.startedMs) / 1000;
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const etaS = done > 0 ? (elapsedS / done) * (this.total - done) : NaN;
    const text = `${this.label} ${done}/${this.total} ${(frac * 100).toFixed(0)}% ${elapsedS.toFixed(1)}s` +
      (Number.isFinite(etaS) && done < this.total ? ` eta ${etaS.toFixed(0)}s` : '') + (note ? ` ${note}` : '');
    if (this.tty) {
      if (now - this.lastDrawMs < 50 && done < this.total) return;
      this.lastDrawMs = now;
      const width = 24;
      const filled = Math.round(frac * width);
      process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K`);
    } else if (now - this.lastLineMs >= 5000 || done >= this.total) {
      this.lastLineMs = now;
      process.stderr.write(text + '\n');
    }
  }

  /** Ends the bar's line on a terminal. */
  finish(): void {
    if (this.enabled && this.tty) process.stderr.write('\n');
    this.enabled = false;
  }
}
