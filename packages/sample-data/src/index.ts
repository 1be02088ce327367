export * from './random.js';
export * from './orders.js';
export * from './customers.js';
export * from './raw-order-row.js';
export * from './seasonality.js';
export * from './malformed.js';
export * from './load.js';
