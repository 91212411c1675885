import type { DocumentData, Timestamp } from 'firebase/firestore';

/** One bar: a try of a step or of its undo, or the step in flight now. */
export interface Bar {
  kind: 'step' | 'undo' | 'running';
  try: number;
  start: number;
  ms: number;
  ok: boolean;
  error?: string;
}

export interface Row {
  step: string;
  bars: Bar[];
}

export interface Attempt {
  attempt: number;
  tenantId: string | null;
  start: number;
  end: number;
  rows: Row[];
  /** How the attempt ended, as far as the job tells. */
  outcome: 'completed' | 'rolled_back' | 'failed' | 'running' | 'compensating' | 'pending' | 'superseded';
}

const millis = (value: unknown): number => (value && typeof (value as Timestamp).toMillis === 'function' ? (value as Timestamp).toMillis() : Number.NaN);

/**
 * The job document as attempts of rows of bars: every try of every step and undo from `timeline`
 * (jobs made before the timeline existed fall back to `completedSteps`), plus the step running now.
 */
export function attemptsOf(job: DocumentData, now: number): Attempt[] {
  const planned: string[] = job.plannedSteps ?? [];
  const entries: DocumentData[] = job.timeline?.length
    ? job.timeline
    : (job.completedSteps ?? []).map((step: DocumentData) => ({ attempt: job.attempt ?? 1, tenantId: job.tenantId, kind: 'step', step: step.name, try: 1, startedAt: step.startedAt, ms: step.ms, ok: true }));
  const byAttempt = new Map<number, DocumentData[]>();
  for (const entry of entries) byAttempt.set(Number(entry.attempt), [...(byAttempt.get(Number(entry.attempt)) ?? []), entry]);
  const current = Number(job.attempt ?? 1);
  if (!byAttempt.has(current)) byAttempt.set(current, []);

  return [...byAttempt.keys()]
    .sort((a, b) => a - b)
    .map((attempt) => {
      const bars = new Map<string, Bar[]>();
      const add = (step: string, bar: Bar) => bars.set(step, [...(bars.get(step) ?? []), bar]);
      for (const entry of byAttempt.get(attempt)!) {
        add(String(entry.step), {
          kind: entry.kind === 'undo' ? 'undo' : 'step',
          try: Number(entry.try),
          start: millis(entry.startedAt),
          ms: Number(entry.ms),
          ok: Boolean(entry.ok),
          ...(entry.error ? { error: String(entry.error) } : {}),
        });
      }
      const isCurrent = attempt === current;
      const since = millis(job.inFlightSince);
      if (isCurrent && job.inFlightStep && !Number.isNaN(since) && ['running', 'compensating'].includes(job.status)) {
        add(String(job.inFlightStep), { kind: 'running', try: 0, start: since, ms: Math.max(0, now - since), ok: true });
      }
      const all = [...bars.values()].flat();
      const start = all.length ? Math.min(...all.map((b) => b.start)) : millis(job.updatedAt);
      const end = all.length ? Math.max(...all.map((b) => b.start + b.ms)) : start;
      const names = [...planned, ...[...bars.keys()].filter((name) => !planned.includes(name))];
      const tenantId = byAttempt.get(attempt)!.find((e) => e.tenantId)?.tenantId ?? (isCurrent ? job.tenantId : null);
      const undid = bars.get('releaseTenant')?.some((b) => b.kind === 'undo' && b.ok);
      return {
        attempt,
        tenantId: tenantId ? String(tenantId) : null,
        start,
        end,
        rows: names.map((step) => ({ step, bars: bars.get(step) ?? [] })),
        outcome: isCurrent ? job.status : undid ? 'rolled_back' : 'superseded',
      };
    });
}

export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
