import type { IncomingHttpHeaders } from 'node:http';
import { ClickHouseException, ErrorCode } from './clickhouse-errors.js';

/**
 * Keeps web pages away from a host on the user's machine. A browser sends
 * `Origin` with every cross-site POST, and a `Host` naming the attacker's
 * domain when DNS rebinding points it at 127.0.0.1; ClickHouse clients send
 * neither an Origin nor a foreign Host. Both are refused unless configured.
 */

export interface RequestGuardOptions {
  /** Exact origins (`http://localhost:3000`) a browser may send SQL from; `*` for any. */
  allowedOrigins: readonly string[];
  /** Host names (no port) the host answers to besides loopback ones; `*` for any. */
  allowedHosts: readonly string[];
}

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '::1']);

/** The name in a Host header, without port or IPv6 brackets, lower-cased. */
export function hostNameOf(hostHeader: string): string {
  const value = hostHeader.trim().toLowerCase();
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    return close === -1 ? value : value.slice(1, close);
  }
  const colon = value.indexOf(':');
  return colon === -1 ? value : value.slice(0, colon);
}

export function isLoopbackName(name: string): boolean {
  return LOOPBACK_NAMES.has(name.toLowerCase().replace(/^\[(.*)\]$/, '$1'));
}

export class RequestGuard {
  readonly #origins: Set<string>;
  readonly #hosts: Set<string>;

  constructor(options: RequestGuardOptions) {
    this.#origins = new Set(options.allowedOrigins.map((o) => o.trim().toLowerCase().replace(/\/$/, '')));
    this.#hosts = new Set(options.allowedHosts.map((h) => hostNameOf(h)));
  }

  /** Throws ACCESS_DENIED for a browser origin or a non-loopback Host that configuration does not allow. */
  check(headers: IncomingHttpHeaders): void {
    const origin = headers.origin;
    if (origin !== undefined && !this.#origins.has('*') && !this.#origins.has(origin.trim().toLowerCase().replace(/\/$/, ''))) {
      throw ClickHouseException.of(
        ErrorCode.ACCESS_DENIED,
        `Requests from a web page (Origin: ${origin}) are refused by the embedded ClickHouse host; allow that origin with CRM_CLICKHOUSE_ALLOWED_ORIGINS`,
      );
    }
    const host = headers.host;
    if (host === undefined || this.#hosts.has('*')) return;
    const name = hostNameOf(host);
    if (!isLoopbackName(name) && !this.#hosts.has(name)) {
      throw ClickHouseException.of(
        ErrorCode.ACCESS_DENIED,
        `Host '${name}' is not a loopback address; the embedded ClickHouse host answers to other names only if CRM_CLICKHOUSE_ALLOWED_HOSTS lists them`,
      );
    }
  }
}
