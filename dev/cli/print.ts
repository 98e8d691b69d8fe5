/**
 * What the development commands print for a person: aligned columns (wide characters counted as a
 * terminal shows them) and paths as one would type them.
 */
import { isAbsolute, relative, sep } from 'node:path';

export type Out = (line?: string) => void;

/** Aligned columns, two spaces apart; `right[i]` right-aligns column i. Trailing blanks trimmed. */
export function printTable(out: Out, rows: readonly (readonly string[])[], right: readonly boolean[] = []): void {
  const columns = Math.max(...rows.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, i) => Math.max(...rows.map((r) => displayWidth(r[i] ?? ''))));
  for (const row of rows) {
    const cells = widths.map((width, i) => {
      const cell = row[i] ?? '';
      const pad = ' '.repeat(Math.max(0, width - displayWidth(cell)));
      return right[i] ? pad + cell : cell + pad;
    });
    out(`  ${cells.join('  ')}`.trimEnd());
  }
}

/** Terminal columns a string takes: East Asian wide characters count two, combining marks none. */
function displayWidth(value: string): number {
  let width = 0;
  for (const char of value) {
    if (COMBINING.test(char)) continue;
    width += WIDE.test(char) ? 2 : 1;
  }
  return width;
}

const COMBINING = /\p{Mn}/u;
const WIDE =
  /[\u1100-\u115F\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6\u{1F300}-\u{1FAFF}\u{20000}-\u{3FFFD}]/u;

/** A path relative to the working directory when it is inside it (what a person types), else absolute. */
export function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : path;
}
