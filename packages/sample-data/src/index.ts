export * from './random.js';
export * from './orders.js';
