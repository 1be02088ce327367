import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ClickHouseException, ErrorCode } from './clickhouse-errors.js';

/**
 * The credentials of ClickHouse's HTTP interface (authenticateUserByHTTP):
 * `X-ClickHouse-User`/`X-ClickHouse-Key`, HTTP Basic, or `user`/`password`
 * URL parameters, one way per request; none means user `default` with an
 * empty password. The host has one user, like a server's users.xml with only
 * `default`, and a wrong name or password gets the server's 516.
 */

export interface Credentials {
  user: string;
  password: string;
}

function header(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

const failed = (message: string) => ClickHouseException.of(ErrorCode.AUTHENTICATION_FAILED, message);

const mixed = (first: string, second: string) => failed(`Invalid authentication: it is not allowed to use ${first} and ${second} simultaneously`);

export function credentialsOf(headers: IncomingHttpHeaders, params: URLSearchParams): Credentials {
  const headerUser = header(headers, 'x-clickhouse-user');
  const headerKey = header(headers, 'x-clickhouse-key');
  const authorization = header(headers, 'authorization');
  const inParams = params.has('user') || params.has('password');

  if (headerUser !== '' || headerKey !== '') {
    if (headerUser === '') throw failed('Got an empty user name from X-ClickHouse HTTP headers');
    if (authorization !== '') throw mixed('X-ClickHouse HTTP headers', 'Authorization HTTP header');
    if (inParams) throw mixed('X-ClickHouse HTTP headers', 'authentication via parameters');
    return { user: headerUser, password: headerKey };
  }
  if (authorization !== '') {
    if (inParams) throw mixed('Authorization HTTP header', 'authentication via parameters');
    const [scheme = '', info = ''] = authorization.trim().split(/\s+/, 2);
    if (scheme.toLowerCase() !== 'basic') throw failed(`Invalid authentication: '${scheme}' HTTP Authorization scheme is not supported`);
    const decoded = Buffer.from(info, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = colon === -1 ? decoded : decoded.slice(0, colon);
    if (user === '') throw failed('Got an empty user name from Authorization HTTP header');
    return { user, password: colon === -1 ? '' : decoded.slice(colon + 1) };
  }
  const user = params.get('user') ?? 'default';
  if (user === '') throw failed('Got an empty user name from authentication via parameters');
  return { user, password: params.get('password') ?? '' };
}

// Digests first, so the comparison takes the same time whatever the lengths.
const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

export class Authenticator {
  readonly #user: Buffer;
  readonly #password: Buffer;

  constructor(expected: Credentials) {
    this.#user = digest(expected.user);
    this.#password = digest(expected.password);
  }

  /** Throws ClickHouse's AUTHENTICATION_FAILED unless `given` names the configured user with its password. */
  check(given: Credentials): void {
    // Both compared every time: no early exit tells a right name from a wrong one.
    const userOk = timingSafeEqual(digest(given.user), this.#user);
    const passwordOk = timingSafeEqual(digest(given.password), this.#password);
    if (!(userOk && passwordOk)) {
      throw failed(`${given.user}: Authentication failed: password is incorrect, or there is no user with such name`);
    }
  }
}
