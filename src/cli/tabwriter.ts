/**
 * Go's text/tabwriter (flags 0, left-aligned, space padding): the layout of every docker table.
 * Cells end with '\t'; the text after a line's last tab is not aligned. A column's width is
 * computed per block of consecutive lines that have that column.
 */
interface Cell { text: string; width: number }

export class TabWriter {
  readonly minwidth: number;
  readonly padding: number;
  #buf = '';
  constructor(minwidth = 10, padding = 3) {
    this.minwidth = minwidth;
    this.padding = padding;
  }

  write(s: string): void {
    this.#buf += s;
  }

  /** Formats everything written so far and returns it. */
  flush(): string {
    const lines: Cell[][] = this.#buf.split('\n').map((l) => l.split('\t').map((t) => ({ text: t, width: [...t].length })));
    this.#buf = '';
    const out: string[] = [];
    const widths: number[] = [];
    const writeLines = (line0: number, line1: number): void => {
      for (let i = line0; i < line1; i++) {
        const line = lines[i]!;
        let s = '';
        for (let j = 0; j < line.length; j++) {
          const c = line[j]!;
          s += c.text;
          if (j < widths.length) s += ' '.repeat(Math.max(0, widths[j]! - c.width));
        }
        out.push(i + 1 === lines.length ? s : `${s}\n`);
      }
    };
    const format = (line0: number, line1: number): void => {
      const column = widths.length;
      for (let t = line0; t < line1; t++) {
        if (column >= lines[t]!.length - 1) continue;
        writeLines(line0, t);
        line0 = t;
        let width = this.minwidth;
        for (; t < line1; t++) {
          const line = lines[t]!;
          if (column >= line.length - 1) break;
          const w = line[column]!.width + this.padding;
          if (w > width) width = w;
        }
        widths.push(width);
        format(line0, t);
        widths.pop();
        line0 = t;
      }
      writeLines(line0, line1);
    };
    format(0, lines.length);
    return out.join('');
  }
}

/** Lays out tab-separated text the way docker's tables do (minwidth 10, padding 3). */
export function tabulate(text: string, minwidth = 10, padding = 3): string {
  const w = new TabWriter(minwidth, padding);
  w.write(text);
  return w.flush();
}
