/**
 * Whether a service can do its work now, from what its parts report: each
 * part is either waiting (with a reason, e.g. "waiting for Kafka") or fine,
 * and a part that promised progress (a loop, a consumer's fetches) must show
 * some within its deadline, so a stuck or dead part reports not ready.
 */
export class Readiness {
  private readonly waiting = new Map<string, string>();
  private readonly progress = new Map<string, { deadlineMs: number; at: number | undefined; what: string }>();

  /** `waiting`: the parts not ready from the start, with their reasons. */
  constructor(waiting: Record<string, string> = {}, private readonly now: () => number = Date.now) {
    for (const [part, reason] of Object.entries(waiting)) this.notReady(part, reason);
  }

  /** Not ready (for `reason`) until `wait` resolves. */
  async until<T>(part: string, reason: string, wait: () => Promise<T>): Promise<T> {
    this.notReady(part, reason);
    const result = await wait();
    this.ready(part);
    return result;
  }

  /** `part` cannot work now, and why (shown on /readyz). */
  notReady(part: string, reason: string): void {
    this.waiting.set(part, reason);
  }

  ready(part: string): void {
    this.waiting.delete(part);
  }

  /** From now on `part` must call `progressed` at least once every `deadlineMs`; it is not ready until it first does. */
  expectProgress(part: string, deadlineMs: number, what = 'a cycle'): void {
    this.progress.set(part, { deadlineMs, at: undefined, what });
  }

  progressed(part: string): void {
    const entry = this.progress.get(part);
    if (entry) entry.at = this.now();
  }

  /** No more progress is expected from `part` (it stopped on purpose). */
  forget(part: string): void {
    this.progress.delete(part);
    this.waiting.delete(part);
  }

  /** Why the service is not ready; empty when it is. */
  reasons(): string[] {
    const now = this.now();
    const out = [...this.waiting].map(([part, reason]) => `${part}: ${reason}`);
    for (const [part, { deadlineMs, at, what }] of this.progress) {
      if (this.waiting.has(part)) continue;
      if (at === undefined) out.push(`${part}: has not completed ${what} yet`);
      else if (now - at > deadlineMs) out.push(`${part}: no ${what} completed in ${Math.round((now - at) / 1000)} s (deadline ${Math.round(deadlineMs / 1000)} s)`);
    }
    return out;
  }

  isReady(): boolean {
    return this.reasons().length === 0;
  }
}
