/**
 * A progress bar on stderr, redrawn in place, drawn only when stderr is a terminal: piped into a log
 * or a file, progress would be noise, so it writes nothing.
 */
export class Progress {
  readonly #total: number;
  readonly #write: (text: string) => void;
  readonly #tty: boolean;
  #done = 0;
  #label = '';

  constructor(total: number, options: { write?: (text: string) => void; tty?: boolean } = {}) {
    this.#total = Math.max(1, total);
    this.#write = options.write ?? ((text) => process.stderr.write(text));
    this.#tty = options.tty ?? Boolean(process.stderr.isTTY);
  }

  step(label: string, units = 1): void {
    this.#done = Math.min(this.#total, this.#done + units);
    this.#label = label;
    if (this.#tty) this.#write(`\r${this.render()}`);
  }

  finish(): void {
    this.#done = this.#total;
    if (this.#tty) this.#write(`\r${this.render()}\n`);
  }

  render(): string {
    const width = 30;
    const filled = Math.round((this.#done / this.#total) * width);
    const percent = Math.floor((this.#done / this.#total) * 100);
    return `[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${String(percent).padStart(3)}% ${this.#label}`.padEnd(80);
  }
}
