export * from './settings.js';
export * from './client.js';
export * from './migrate.js';
export * from './tables.js';
export * from './personal-data.js';
export * from './dashboard-aggregates.js';
