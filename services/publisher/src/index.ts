export * from './config.js';
export * from './publisher.js';
export { commitMarks, publisherBacklog, SEGMENT_CHANGES, CUSTOMER_AT_RISK } from './outbox.js';
