export * from './topics.js';
export * from './settings.js';
export * from './client.js';
export * from './security.js';
export * from './admin.js';
export * from './codecs.js';
export * from './bounded-send.js';
export * from './supervised-consumer.js';
