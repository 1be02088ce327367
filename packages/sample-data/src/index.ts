export * from './random.js';
export * from './orders.js';
export * from './customers.js';
