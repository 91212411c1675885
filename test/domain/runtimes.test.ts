// H1: the functions' runtime is one Google still deploys, with 90 days to spare before its deprecation.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runtimeProblem } from '../../functions/src/domain/runtimes';

const engine = JSON.parse(readFileSync(join(__dirname, '..', '..', 'functions', 'package.json'), 'utf8')).engines?.node as string | undefined;

describe('the Cloud Functions runtime (H1)', () => {
  it('H1: functions/package.json pins a runtime that is more than 90 days from its deprecation today', () => {
    expect(runtimeProblem(engine, new Date())).toBeNull();
  });

  it('refuses nodejs20 after its decommission (2026-10-30) and nodejs22 from 90 days before its deprecation (2027-04-30)', () => {
    expect(runtimeProblem('20', new Date('2026-12-02'))).toMatch(/nodejs20 was decommissioned on 2026-10-30/);
    expect(runtimeProblem('22', new Date('2027-01-29'))).toBeNull();
    expect(runtimeProblem('22', new Date('2027-01-31'))).toMatch(/nodejs22 is deprecated on 2027-04-30/);
  });

  it('refuses nodejs24 while a 1st-gen function needs a runtime both generations have', () => {
    expect(runtimeProblem('24', new Date('2026-12-02'))).toMatch(/2nd gen only/);
    expect(runtimeProblem('24', new Date('2026-12-02'), false)).toBeNull();
  });

  it('refuses what is not one major version, or no runtime Google has', () => {
    expect(runtimeProblem(undefined, new Date())).toMatch(/must be one major version/);
    expect(runtimeProblem('>=20', new Date())).toMatch(/must be one major version/);
    expect(runtimeProblem('19', new Date())).toMatch(/not a Cloud Functions runtime/);
  });
});
