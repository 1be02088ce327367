export * from './config.js';
export * from './scoring.js';
export * from './profiles.js';
