export * from './common.js';
export * from './orders.js';
export * from './rejection.js';
