export * from './config.js';
export * from './scoring.js';
export * from './parameters.js';
export * from './segments.js';
export type { ScoringRun } from './run.js';
export { LIFECYCLE_STAGE_SQL, valueTierSql } from './profile-rows.js';
export { createWriteLease, type WriteLock, type WriteLeaseOptions } from './write-lock.js';
export { customerSummaryTsv } from './statistics.js';
