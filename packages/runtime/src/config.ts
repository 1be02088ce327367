import { readFileSync } from 'node:fs';
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
        const key = issue.path.length > 0 ? String(issue.path[0]) : undefined;
        const given = key === undefined ? undefined : picked[key];
        const shown = given === undefined ? '' : isSecretSetting(key!) ? ' (value not shown: a secret)' : ` (got ${JSON.stringify(given)})`;
        return `${name}: ${issue.message}${shown}`;
      }),
    );
  }
  return Object.freeze(result.data);
}

/**
 * Settings whose value is a credential, by name, so no schema has to remember to mark one: a
 * configuration error names them but never echoes their value into a terminal or a log.
 */
export function isSecretSetting(name: string): boolean {
  return /(PASSWORD|PASSPHRASE|SECRET|TOKEN)$/.test(name);
}

/**
 * A file read once at start-up (a CA, a certificate, a key), so an unreadable path stops
 * start-up naming its setting instead of failing at the first connection.
 */
function readableFile() {
  return z.string().transform((path, ctx) => {
    try {
      return readFileSync(path);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})` });
      return z.NEVER;
    }
  });
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
  /** An optional file's contents (unset: undefined). */
  file: () => readableFile().optional(),
};
