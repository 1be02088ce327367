import { randomBytes } from 'node:crypto';

/** Topics, consumer groups and databases unique to one test, so tests share a broker without seeing each other. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}
