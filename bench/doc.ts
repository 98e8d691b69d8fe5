/**
 * docs/benchmarks.md after a run of some scenarios (`--only … --write`): their sections and the
 * targets table replaced, everything else as it was. A section's generated part is its heading, its
 * description and its figure table; the notes written under the table by hand stay. A scenario with
 * no section yet gets one where its place in the scenario list puts it. Target rows whose figure the
 * run did not measure keep the value the table shows.
 */

export interface DocSection {
  readonly title: string;
  /** `## title`, the description, the figure table (renderSection in run.ts). */
  readonly text: string;
}

interface Block {
  /** The `## ` heading's text; undefined for what comes before the first. */
  readonly title: string | undefined;
  readonly lines: string[];
}

const TARGETS_TITLE = 'Targets';

/** The doc with `sections` and the targets table replaced; `order` is every scenario's title, in run order. */
export function mergeIntoDoc(
  doc: string,
  sections: readonly DocSection[],
  order: readonly string[],
  targetsTable: string,
): string {
  const blocks = splitBlocks(doc);
  const targets = blocks.find((b) => b.title === TARGETS_TITLE);
  if (!targets) throw new Error('docs/benchmarks.md has no ## Targets section');
  const [start, end] = firstTable(targets.lines);
  targets.lines.splice(start, end - start, ...targetsTable.trimEnd().split('\n'));
  for (const section of sections) {
    const lines = section.text.trimEnd().split('\n');
    const at = blocks.findIndex((b) => b.title === section.title);
    const old = blocks[at];
    if (old) {
      // The heading through the end of the figure table are generated; what follows was written by hand.
      const [, tableEnd] = firstTable(old.lines);
      old.lines.splice(0, tableEnd, ...lines);
      if (old.lines.at(-1) !== '') old.lines.push('');
      continue;
    }
    const rank = order.indexOf(section.title);
    const before = blocks.findIndex((b) => b.title !== undefined && order.indexOf(b.title) > rank);
    const block: Block = { title: section.title, lines: [...lines, ''] };
    if (before < 0) {
      const last = blocks.at(-1);
      if (last && last.lines.at(-1) !== '') last.lines.push('');
      blocks.push(block);
    } else {
      blocks.splice(before, 0, block);
    }
  }
  return blocks.flatMap((b) => b.lines).join('\n');
}

/** figure → the value the targets table shows for it (rows showing none are left out). */
export function targetValues(doc: string): Record<string, number> {
  const targets = splitBlocks(doc).find((b) => b.title === TARGETS_TITLE);
  const values: Record<string, number> = {};
  if (!targets) return values;
  const [start, end] = firstTable(targets.lines);
  for (const row of targets.lines.slice(start, end)) {
    const cells = row.split('|').map((cell) => cell.trim());
    const figure = /`([\w.]+)`/.exec(cells[2] ?? '')?.[1];
    const value = Number(cells[3]);
    if (figure && cells[3] !== '' && Number.isFinite(value)) values[figure] = value;
  }
  return values;
}

function splitBlocks(doc: string): Block[] {
  const blocks: Block[] = [{ title: undefined, lines: [] }];
  for (const line of doc.split('\n')) {
    if (line.startsWith('## ')) blocks.push({ title: line.slice(3).trim(), lines: [] });
    (blocks.at(-1) as Block).lines.push(line);
  }
  return blocks;
}

/** [first line, line after the last] of the first markdown table in `lines`. */
function firstTable(lines: readonly string[]): [number, number] {
  const start = lines.findIndex((line) => line.startsWith('|'));
  if (start < 0) throw new Error(`no table under "${lines[0]}"`);
  let end = start;
  while (end < lines.length && lines[end]?.startsWith('|')) end++;
  return [start, end];
}
