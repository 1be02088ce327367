export * from './config.js';
export * from './publisher.js';
