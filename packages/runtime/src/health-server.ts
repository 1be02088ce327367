import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Readiness } from './readiness.js';

export interface HealthServer {
  readonly port: number;
  readonly registry: Registry;
  close(): Promise<void>;
}

export interface HealthServerOptions {
  host?: string;
  port: number;
  /**
   * Ready means: able to do the service's work now (dependencies reachable,
   * consumer running, loop making progress); /readyz lists the reasons when not.
   */
  readiness: Pick<Readiness, 'reasons'>;
  registry?: Registry;
}

/** `/healthz` (process alive), `/readyz` (ready for work) and Prometheus `/metrics`, one per service. */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const registry = options.registry ?? new Registry();
  collectDefaultMetrics({ register: registry });
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const reasons = options.readiness.reasons();
      res
        .writeHead(reasons.length === 0 ? 200 : 503, { 'content-type': 'text/plain' })
        .end(reasons.length === 0 ? 'ready\n' : `not ready\n${reasons.map((r) => `${r}\n`).join('')}`);
    } else if (path === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (error: unknown) => res.writeHead(500).end(String(error)),
      );
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    registry,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
