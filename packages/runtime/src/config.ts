import { z } from 'zod';
import { ConfigError } from './errors.js';
import { LOG_LEVELS } from './logger.js';

export type Env = Record<string, string | undefined>;

/**
 * Parses environment variables once, at start-up: every problem is reported
 * together, each naming its variable, and the result is frozen so nothing can
 * change configuration behind the code's back.
 */
export function loadConfig<S extends z.ZodObject>(schema: S, env: Env = process.env): Readonly<z.infer<S>> {
  const picked: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    // An empty variable means "not set": the documented default applies.
    if (value !== undefined && value !== '') picked[key] = value;
  }
  const result = schema.safeParse(picked);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const name = issue.path.join('.') || '(environment)';
        const given = issue.path.length > 0 ? picked[String(issue.path[0])] : undefined;
        return `${name}: ${issue.message}${given === undefined ? '' : ` (got ${JSON.stringify(given)})`}`;
      }),
    );
  }
  return Object.freeze(result.data);
}

/** Reusable setting types, so every service reads the same variable the same way. */
export const setting = {
  port: (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback),
  positiveInt: (fallback: number) => z.coerce.number().int().positive().default(fallback),
  boolean: (fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'])
      .default(fallback ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1' || v === 'yes'),
  url: (fallback: string) => z.string().url().default(fallback),
  currency: (fallback: string) => z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as USD').default(fallback),
  logLevel: () => z.enum(LOG_LEVELS).default('info'),
};
