export * from './config.js';
export * from './publisher.js';
export { commitMarks } from './outbox.js';
