// The bench rewrites only its marked blocks of docs/benchmarks.md, so the written analysis survives a rerun.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mergeBenchSections } from '../../scripts/bench-report';

const doc = ['# Benchmarks', '', '## Sweep', '', '<!-- bench:sweep -->', '| p50 | 10 |', '<!-- /bench:sweep -->', '', 'What bounds it: the index.', ''].join('\n');

describe('bench report', () => {
  it('replaces the numbers between a section\'s markers and keeps the analysis around them', () => {
    const merged = mergeBenchSections(doc, [{ id: 'sweep', title: 'Sweep', body: '| p50 | 12 |' }]);
    expect(merged).toContain('| p50 | 12 |');
    expect(merged).not.toContain('| p50 | 10 |');
    expect(merged).toContain('What bounds it: the index.');
    expect(merged.match(/<!-- bench:sweep -->/g)).toHaveLength(1);
  });

  it('appends a section that is new to the file under its heading, leaving the others as they were', () => {
    const merged = mergeBenchSections(doc, [{ id: 'invites', title: 'Invites', body: '| p95 | 3 |' }]);
    expect(merged.startsWith(doc.trimEnd())).toBe(true);
    expect(merged).toMatch(/## Invites\n\n<!-- bench:invites -->\n\| p95 \| 3 \|\n<!-- \/bench:invites -->\n$/);
  });

  it('docs/benchmarks.md has one balanced marker pair per generated block', () => {
    const text = readFileSync('docs/benchmarks.md', 'utf8');
    const opens = [...text.matchAll(/<!-- bench:([\w-]+) -->/g)].map((m) => m[1]);
    const closes = [...text.matchAll(/<!-- \/bench:([\w-]+) -->/g)].map((m) => m[1]);
    expect(opens.length).toBeGreaterThan(0);
    expect(closes).toEqual(opens);
    expect(new Set(opens).size).toBe(opens.length);
  });
});
