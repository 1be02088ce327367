import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { isProcessAlive, sleep } from '@crm/runtime';
import { spawnService, type ServiceProcess } from '../support/processes.js';

/** What the scenario knows about a process exit it did not ask for. */
export interface ServiceExit {
  service: string;
  instance: number;
  code: number | null;
  signal: string | null;
  /** Seconds since the scenario started. */
  atSeconds: number;
  /** The fault (or phase) in progress when it happened. */
  during: string;
  /** Its last log lines, shortened (ClickHouse errors echo whole statements). */
  lastLines: string[];
}

export interface SupervisorContext {
  log(line: string): void;
  elapsedSeconds(): number;
  /** What is going on right now, for the record of an unexpected exit. */
  currentActivity(): string;
  disposed(): boolean;
  /** Where each instance's full output goes (FAULTS_LOG_DIR), if anywhere. */
  logDir?: string;
}

const shorten = (text: string, max = 240) => (text.length > max ? `${text.slice(0, max)}…` : text);

/** One pino line as `level msg — error`, short. */
export function compactLine(line: Record<string, unknown>): string {
  const level = typeof line.level === 'number' ? ({ 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' } as Record<number, string>)[line.level] ?? line.level : '';
  const err = line.err as { message?: string; code?: string } | undefined;
  const detail = err?.message ? ` — ${err.code ? `${err.code}: ` : ''}${err.message}` : '';
  return shorten(`${level} ${String(line.msg ?? '')}${detail}`.trim());
}

/**
 * A service run as a child process the way a supervisor (systemd, Kubernetes)
 * runs it: the scenario kills and restarts it on purpose, and an exit it did
 * not ask for is recorded (a finding) and followed by a restart one second
 * later, as `Restart=always` would do.
 */
export class Supervisor {
  private proc: ServiceProcess | undefined;
  private readonly intended = new WeakSet<ServiceProcess>();
  private restartTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private stderrTail = '';
  instances = 0;
  readonly unexpectedExits: ServiceExit[] = [];

  constructor(
    readonly name: string,
    private readonly script: string,
    private readonly env: Record<string, string>,
    readonly readyMessage: string,
    private readonly ctx: SupervisorContext,
  ) {}

  get pid(): number | undefined {
    return this.alive ? this.proc!.child.pid : undefined;
  }

  get alive(): boolean {
    return this.proc !== undefined && this.proc.child.exitCode === null && this.proc.child.signalCode === null;
  }

  /** The current instance, if any. */
  get current(): ServiceProcess | undefined {
    return this.proc;
  }

  /** Log lines of the current instance. */
  get lines(): Record<string, unknown>[] {
    return this.proc?.lines ?? [];
  }

  start(): ServiceProcess {
    if (this.ctx.disposed()) throw new Error(`${this.name}: not started, the scenario is being disposed`);
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    if (this.alive) return this.proc!;
    this.stopped = false;
    const proc = spawnService(this.script, this.env);
    const instance = ++this.instances;
    this.proc = proc;
    this.stderrTail = '';
    proc.child.stderr!.on('data', (chunk: Buffer) => (this.stderrTail = (this.stderrTail + chunk.toString()).slice(-600)));
    if (this.ctx.logDir) {
      const file = createWriteStream(join(this.ctx.logDir, `${this.name}-${instance}.log`));
      proc.child.stdout!.pipe(file, { end: false });
      proc.child.stderr!.pipe(file, { end: false });
      proc.child.once('close', () => file.end());
    }
    proc.child.on('exit', (code, signal) => {
      if (this.intended.has(proc) || this.ctx.disposed()) return;
      const exit: ServiceExit = {
        service: this.name,
        instance,
        code,
        signal,
        atSeconds: this.ctx.elapsedSeconds(),
        during: this.ctx.currentActivity(),
        // stderr only when the log says nothing (the ClickHouse client's own error dumps are long and say less).
        lastLines: [
          ...proc.lines.slice(-6).map(compactLine),
          ...(this.stderrTail.trim() && !proc.lines.slice(-6).some((l) => Number(l.level) >= 50) ? [`stderr: ${shorten(this.stderrTail.trim(), 400)}`] : []),
        ],
      };
      this.unexpectedExits.push(exit);
      this.ctx.log(`!! ${this.name} #${instance} exited on its own (code ${code}, signal ${signal}) during ${exit.during}; last lines:\n     ${exit.lastLines.join('\n     ')}`);
      if (this.proc === proc && !this.stopped && this.unexpectedExits.length <= 50) {
        this.restartTimer = setTimeout(() => {
          if (!this.ctx.disposed() && !this.stopped && this.proc === proc) this.start();
        }, 1_000);
      }
    });
    return proc;
  }

  /** Waits for the current instance's readiness line. */
  async ready(timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const proc = this.proc;
      if (proc && this.alive) {
        try {
          await proc.waitForLog((l) => l.msg === this.readyMessage, Math.max(1, deadline - Date.now()));
          return;
        } catch (error) {
          if (Date.now() >= deadline) throw error;
        }
      }
      if (Date.now() >= deadline) throw new Error(`${this.name} not ready within ${timeoutMs} ms`);
      await sleep(250);
    }
  }

  /** Kills the current instance on purpose (nothing is restarted until start()). */
  async kill(signal: NodeJS.Signals): Promise<number | null> {
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const proc = this.proc;
    if (!proc || !this.alive) return null;
    this.intended.add(proc);
    return proc.kill(signal);
  }

  /**
   * A graceful stop (SIGTERM); SIGKILL after `graceMs`. Returns the exit code
   * (null when it had to be killed) and stays stopped.
   */
  async stop(graceMs = 45_000): Promise<{ code: number | null; forced: boolean; lastLines: string[] }> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    const proc = this.proc;
    if (!proc || !this.alive) return { code: proc?.child.exitCode ?? null, forced: false, lastLines: [] };
    this.intended.add(proc);
    proc.child.kill('SIGTERM');
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref());
    const outcome = await Promise.race([proc.exited, timer]);
    const lastLines = proc.lines.slice(-4).map(compactLine);
    if (outcome === 'timeout') {
      await proc.kill('SIGKILL');
      return { code: null, forced: true, lastLines };
    }
    return { code: outcome, forced: false, lastLines };
  }

  /** Last resort, synchronous (process exit hooks): SIGKILL whatever still runs. */
  killNow(): void {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    const pid = this.pid;
    if (pid !== undefined && isProcessAlive(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/** Per topic: partition → high watermark. */
export async function endOffsets(kafka: Kafka, topics: readonly string[]): Promise<Map<string, Map<number, bigint>>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const out = new Map<string, Map<number, bigint>>();
    for (const topic of topics) {
      out.set(topic, new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)])));
    }
    return out;
  } finally {
    await admin.disconnect();
  }
}

/** How far a consumer group's committed offsets are behind the ends: messages left, summed over partitions. */
export async function groupLag(kafka: Kafka, group: string, topics: readonly string[]): Promise<{ lag: bigint; committed: bigint; end: bigint }> {
  const ends = await endOffsets(kafka, topics);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const committed = await admin.fetchOffsets({ groupId: group, topics: [...topics] });
    let lag = 0n;
    let done = 0n;
    let end = 0n;
    for (const [topic, partitions] of ends) {
      const mine = committed.find((t) => t.topic === topic)?.partitions ?? [];
      for (const [partition, high] of partitions) {
        const offset = BigInt(mine.find((p) => p.partition === partition)?.offset ?? '-1');
        const at = offset < 0n ? 0n : offset;
        end += high;
        done += at < high ? at : high;
        if (at < high) lag += high - at;
      }
    }
    return { lag, committed: done, end };
  } finally {
    await admin.disconnect();
  }
}

/** Every message of a topic up to its current end, or up to `until` (a fresh consumer group, from the beginning). */
export async function readToEnd(kafka: Kafka, topic: string, until?: ReadonlyMap<number, bigint>, timeoutMs = 120_000): Promise<KafkaMessage[]> {
  const ends = until ?? (await endOffsets(kafka, [topic])).get(topic)!;
  const remaining = new Map([...ends].filter(([, high]) => high > 0n));
  const messages: KafkaMessage[] = [];
  if (remaining.size === 0) return messages;
  const consumer = kafka.consumer({ groupId: `faults-reader-${randomUUID()}`, maxBytesPerPartition: 4 << 20 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`reading ${topic}: ${messages.length} messages after ${timeoutMs} ms; partitions not at their end: ${[...remaining.keys()].join(', ')}`)),
        timeoutMs,
      );
      void consumer
        .run({
          eachBatch: async ({ batch }) => {
            const high = ends.get(batch.partition) ?? 0n;
            for (const m of batch.messages) if (BigInt(m.offset) < high) messages.push(m);
            if (BigInt(batch.lastOffset()) + 1n >= high) remaining.delete(batch.partition);
            if (remaining.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    return messages;
  } finally {
    await consumer.disconnect();
  }
}
