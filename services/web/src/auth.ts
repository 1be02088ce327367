import { createHash, timingSafeEqual } from 'node:crypto';

/** The token a request carries: `Authorization: Bearer …` first, else `?token=…` (what a printed URL carries, as Jupyter's does). */
export function presentedToken(authorization: string | undefined, query: unknown): string | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (bearer) return bearer[1];
  const token = (query as { token?: unknown } | undefined)?.token;
  return typeof token === 'string' && token !== '' ? token : undefined;
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Whether the request may proceed: always without a configured token; otherwise only with it, compared in constant time. */
export function tokenAccepted(expected: string | undefined, presented: string | undefined): boolean {
  if (expected === undefined) return true;
  if (presented === undefined) return false;
  return timingSafeEqual(digest(expected), digest(presented));
}
