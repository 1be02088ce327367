import type { IHeaders } from 'kafkajs';

/**
 * What the Pipeline page tells of a dead letter: where it came from, why it was refused
 * (code and field path, from ingest's `dlq.*` headers), when, and how big the original was.
 * Never the key, the value or the reason's message: those can carry a customer's data.
 */
export interface DeadLetterFacts {
  topic: string;
  reason: string;
  path: string;
  failedAt: string;
  bytes: number;
}

export interface DeadLetterSummary {
  /** Letters read from the dead-letter topic since the service started reading it (from its start). */
  letters: number;
  byReason: { topic: string; reason: string; letters: number; lastAt: string }[];
  /** The newest first. */
  recent: DeadLetterFacts[];
}

const text = (headers: IHeaders | undefined, name: string): string | undefined => {
  const value = headers?.[name];
  const one = Array.isArray(value) ? value[0] : value;
  return one === undefined ? undefined : one.toString();
};

export function deadLetterFacts(headers: IHeaders | undefined, value: Buffer | null): DeadLetterFacts {
  // A cut-down letter (dlq.truncated) says how long the original was.
  const original = Number(text(headers, 'dlq.original.value_bytes'));
  return {
    topic: text(headers, 'dlq.source.topic') ?? 'unknown',
    reason: text(headers, 'dlq.reason.code') ?? 'unknown',
    path: text(headers, 'dlq.reason.path') ?? '',
    failedAt: text(headers, 'dlq.failed_at') ?? '',
    bytes: Number.isFinite(original) && text(headers, 'dlq.truncated') === 'true' ? original : (value?.length ?? 0),
  };
}

/**
 * Counts per source topic and reason, and the newest few letters. Each partition's offsets are
 * counted once: a consumer that kafkajs restarts, or a replacement, reads from the topic's start
 * again (the reader commits nothing), and what it has seen before is skipped.
 */
export class DeadLetterTally {
  private readonly next = new Map<number, bigint>();
  private readonly counts = new Map<string, { topic: string; reason: string; letters: number; lastAt: string }>();
  private recent: DeadLetterFacts[] = [];
  private letters = 0;

  constructor(private readonly keepRecent = 10) {}

  add(partition: number, offset: string, facts: DeadLetterFacts): void {
    const at = BigInt(offset);
    if (at < (this.next.get(partition) ?? 0n)) return;
    this.next.set(partition, at + 1n);
    this.letters += 1;
    const key = JSON.stringify([facts.topic, facts.reason]);
    const entry = this.counts.get(key) ?? { topic: facts.topic, reason: facts.reason, letters: 0, lastAt: '' };
    entry.letters += 1;
    if (facts.failedAt > entry.lastAt) entry.lastAt = facts.failedAt;
    this.counts.set(key, entry);
    this.recent = [...this.recent, facts].sort((a, b) => b.failedAt.localeCompare(a.failedAt)).slice(0, this.keepRecent);
  }

  summary(): DeadLetterSummary {
    const byReason = [...this.counts.values()].sort((a, b) => b.letters - a.letters || a.topic.localeCompare(b.topic) || a.reason.localeCompare(b.reason));
    return { letters: this.letters, byReason: byReason.map((e) => ({ ...e })), recent: [...this.recent] };
  }
}
