import { expect } from 'vitest';
import type { FaultReport } from './scenario.js';

/** What both forms assert: the pipeline converged to exactly what was produced, and to what a clean run computes. */
export function expectConverged(report: FaultReport): void {
  // A service that crashed and was restarted by the supervisor would hide behind the convergence checks.
  expect(report.unexpectedExits.map((e) => `${e.service} #${e.instance} exited (code ${e.code}, signal ${e.signal}) during ${e.during}: ${e.lastLines.join(' | ')}`)).toEqual([]);
  expect(report.shutdowns.filter((s) => s.code !== 0 || s.forced)).toEqual([]);
  expect(report.waits.filter((w) => !w.reached).map((w) => `${w.name}: ${w.last}`)).toEqual([]);
  for (const r of [...report.raw, ...report.cleanRaw]) {
    expect({ table: r.table, missing: r.missing, extra: r.extra, unique: r.unique }).toEqual({ table: r.table, missing: 0, extra: 0, unique: r.expected });
  }
  expect(report.raw.find((r) => r.table === 'orders')!.expected).toBeGreaterThan(0);
  expect({ missing: report.deadLetters.missing, wrongReason: report.deadLetters.wrongReason, unexpected: report.deadLetters.unexpected }).toEqual({ missing: 0, wrongReason: 0, unexpected: 0 });
  expect(report.deadLetters.expected).toBeGreaterThan(0);
  expect({ mismatches: report.profiles.mismatches, faulted: report.profiles.faulted }).toEqual({ mismatches: 0, faulted: report.profiles.clean });
  expect(report.profiles.clean).toBeGreaterThan(0);
  expect({ missing: report.published.missing, unexpected: report.published.unexpected, conflicting: report.published.conflicting, wrongKey: report.published.wrongKey }).toEqual({
    missing: 0,
    unexpected: 0,
    conflicting: 0,
    wrongKey: 0,
  });
  expect(report.published.expected.segmentChanges).toBeGreaterThan(0);
}
