// The malformed-message builders live in @crm/sample-data, shared with its load generator (generateLoad).
export { malformedVariants, type InputName, type Malformed } from '@crm/sample-data';
