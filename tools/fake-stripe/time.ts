// Calendar arithmetic for billing periods, in UTC as Stripe bills.
import type { Interval } from './state';

export const HOUR = 3600;
export const DAY = 86_400;

/** One calendar month later, clamped to the month's last day (Jan 31 → Feb 28), in UTC. */
export function addMonth(unixSeconds: number): number {
  return addMonthsFromAnchor(unixSeconds, 1);
}

/** `anchor` plus `months` calendar months, keeping the anchor's day where the month has it. */
function addMonthsFromAnchor(anchor: number, months: number): number {
  const date = new Date(anchor * 1000);
  const day = date.getUTCDate();
  date.setUTCDate(1);
  date.setUTCMonth(date.getUTCMonth() + months);
  const lastDay = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
  date.setUTCDate(Math.min(day, lastDay));
  return Math.floor(date.getTime() / 1000);
}

/** `anchor` plus `n` billing intervals, counted from the anchor so that a 31st stays a 31st where it can. */
export function addIntervals(anchor: number, interval: Interval, intervalCount: number, n: number): number {
  const steps = intervalCount * n;
  switch (interval) {
    case 'day':
      return anchor + steps * DAY;
    case 'week':
      return anchor + steps * 7 * DAY;
    case 'month':
      return addMonthsFromAnchor(anchor, steps);
    case 'year':
      return addMonthsFromAnchor(anchor, 12 * steps);
  }
}

/** The end of the billing period that starts at `start`, for a cycle anchored at `anchor`. */
export function periodEndAfter(anchor: number, start: number, interval: Interval, intervalCount: number): number {
  let n = 1;
  let end = addIntervals(anchor, interval, intervalCount, n);
  while (end <= start) {
    n += 1;
    end = addIntervals(anchor, interval, intervalCount, n);
  }
  return end;
}

/** `22 Nov 2026`, the date format of Stripe's proration line descriptions. */
export function shortDate(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  return `${d.getUTCDate()} ${d.toLocaleString('en-GB', { month: 'short', timeZone: 'UTC' })} ${d.getUTCFullYear()}`;
}
