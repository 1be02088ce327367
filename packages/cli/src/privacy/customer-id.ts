import { UsageError } from '../usage-error.js';

/** `<export|erase> customer <customer_id>`: the id as the input schemas allow it (1–256 characters). */
export function customerIdArgument(command: string, rest: readonly string[]): string {
  const [what, id, ...extra] = rest;
  if (what !== 'customer' || id === undefined || extra.length > 0) throw new UsageError(`${command} takes: ${command} customer <customer_id>`);
  if (id.length === 0 || id.length > 256) throw new UsageError(`${command}: a customer id has 1 to 256 characters`);
  return id;
}
