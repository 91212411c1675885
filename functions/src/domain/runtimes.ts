/**
 * Google's published support schedule for the Cloud Functions Node.js runtimes
 * (https://cloud.google.com/functions/docs/runtime-support and .../1stgendocs/runtime-support).
 * After `decommissioned` a deploy on that runtime is refused; Google starts warning 90 days before `deprecated`.
 */
export const NODE_RUNTIMES = {
  nodejs20: { deprecated: '2026-04-30', decommissioned: '2026-10-30', firstGen: true },
  nodejs22: { deprecated: '2027-04-30', decommissioned: '2027-10-31', firstGen: true },
  nodejs24: { deprecated: '2028-04-30', decommissioned: '2028-10-31', firstGen: false },
} as const;

export type NodeRuntime = keyof typeof NODE_RUNTIMES;

/** How long before a runtime's deprecation the project must have moved on (Google's own notice period). */
export const RUNTIME_NOTICE_DAYS = 90;

const DAY_MS = 86_400_000;

/**
 * Why `engine` (functions/package.json `engines.node`, e.g. "22") cannot be shipped at `now`, or null.
 * `needsFirstGen`: the codebase has a 1st-gen function (the v1 Auth trigger), which rules out 2nd-gen-only runtimes.
 */
export function runtimeProblem(engine: string | undefined, now: Date, needsFirstGen = true): string | null {
  if (!engine || !/^\d+$/.test(engine)) return `functions/package.json engines.node must be one major version (e.g. "22"), not ${JSON.stringify(engine)}`;
  const id = `nodejs${engine}`;
  if (!(id in NODE_RUNTIMES)) return `${id} is not a Cloud Functions runtime this project knows (known: ${Object.keys(NODE_RUNTIMES).join(', ')})`;
  const runtime = NODE_RUNTIMES[id as NodeRuntime];
  if (needsFirstGen && !runtime.firstGen) return `${id} is 2nd gen only, and onUserCreated is a 1st-gen (v1) Auth trigger`;
  if (now.getTime() >= Date.parse(runtime.decommissioned)) return `${id} was decommissioned on ${runtime.decommissioned}: Cloud Functions refuses to deploy it`;
  const noticeFrom = Date.parse(runtime.deprecated) - RUNTIME_NOTICE_DAYS * DAY_MS;
  if (now.getTime() >= noticeFrom) return `${id} is deprecated on ${runtime.deprecated} (within ${RUNTIME_NOTICE_DAYS} days or past): move engines.node to a newer runtime`;
  return null;
}
