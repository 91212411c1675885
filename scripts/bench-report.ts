// Writes bench results into docs/benchmarks.md between per-section markers, so a rerun refreshes the
// numbers and keeps the hand-written analysis (what bounds a figure, why a target is missed) around them.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export interface BenchSection {
  /** Stable id of the section's marker pair: `<!-- bench:id -->` … `<!-- /bench:id -->`. */
  id: string;
  /** Heading used when the section is new to the file. */
  title: string;
  /** The generated markdown (tables, figures); never the analysis. */
  body: string;
}

const open = (id: string) => `<!-- bench:${id} -->`;
const close = (id: string) => `<!-- /bench:${id} -->`;

/** Replaces each section's generated block in `markdown`; a section not there yet is appended with its heading. */
export function mergeBenchSections(markdown: string, sections: BenchSection[]): string {
  let result = markdown;
  for (const { id, title, body } of sections) {
    const block = `${open(id)}\n${body.trim()}\n${close(id)}`;
    const start = result.indexOf(open(id));
    const end = result.indexOf(close(id));
    if (start >= 0 && end > start) result = result.slice(0, start) + block + result.slice(end + close(id).length);
    else result = `${result.trimEnd()}\n\n## ${title}\n\n${block}\n`;
  }
  return result;
}

export function writeBenchSections(path: string, sections: BenchSection[]): void {
  const current = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
  writeFileSync(path, mergeBenchSections(current, sections));
}
