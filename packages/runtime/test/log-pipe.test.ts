import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const FIXTURE = fileURLToPath(new URL('./fixtures/log-until-signal.ts', import.meta.url));

/**
 * A service whose log reader is gone (its supervisor died, `| head` ended) must still stop on
 * SIGTERM. With an asynchronous log destination, the flush pino runs at exit retried the broken
 * pipe forever (sonic-boom's flushSync retries every write error), so the process never ended.
 */
describe('logging into a pipe nobody reads any more', () => {
  it('does not keep a service from stopping on SIGTERM', { timeout: 30_000 }, async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [first] = (await once(child.stdout!, 'data')) as [Buffer];
    expect(first.toString()).toContain('"started"');
    // The reader goes away.
    child.stdout!.destroy();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const exited = once(child, 'exit');
    const started = Date.now();
    child.kill('SIGTERM');
    const outcome = await Promise.race([exited.then(([code]) => ({ code })), new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 10_000))]);
    if (outcome === 'hung') child.kill('SIGKILL');
    expect(outcome).toEqual({ code: 0 });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
