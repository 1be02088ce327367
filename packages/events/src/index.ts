export * from './common.js';
export * from './types.js';
export * from './rejection.js';
export * from './registry.js';
export * from './codec.js';
export { rabinFingerprint } from './rabin.js';
export { nameBasedUuid } from './name-based-uuid.js';
export type { AvroField, AvroNamed, AvroType } from './avro-schema.js';
