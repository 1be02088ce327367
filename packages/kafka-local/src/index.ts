export * from './provision.js';
export * from './broker.js';
export * from './free-port.js';
export * from './prerequisites.js';
export type { SaslSslListener } from './broker-config.js';
