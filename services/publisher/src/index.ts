export * from './config.js';
export * from './publisher.js';
export { newestCommit } from './outbox.js';
