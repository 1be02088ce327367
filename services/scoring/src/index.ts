export * from './config.js';
export * from './scoring.js';
export * from './parameters.js';
export * from './segments.js';
export type { ScoringRun } from './run.js';
