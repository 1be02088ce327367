import type { Kafka } from 'kafkajs';
import { ensureTopics, topicNames } from '@crm/kafka';
import { createClickHouse, migrate } from '@crm/clickhouse';
import { cpuSeconds, waitForQuietMachine } from './ephemeral-stack.js';
import { measureIngest, produceLoad, readOnceBeforeTiming, type IngestMeasurement } from './measure-ingest.js';
import { measureKafkaEnginePeer, type KafkaEnginePeerResult } from './kafka-engine-peer.js';

export interface PeerRound {
  messages: number;
  validClicks: number;
  ours: IngestMeasurement;
  /** Another checkout's ingest on the same load (`--baseline`). */
  baseline?: IngestMeasurement;
  peer: KafkaEnginePeerResult;
  /** CPU microseconds of the ClickHouse host per message while the peer ran. */
  peerCpuUsPerMessage: number;
  /** Who ran when, e.g. 'peer, ours'. */
  order: string;
}

/**
 * One round of ours against the peer on a fresh JSON click topic. Rounds
 * alternate the order (even: baseline, ours, peer; odd: the reverse): what
 * runs first meets the machine as the previous section left it (the host
 * still merging, the page cache cold), and what runs later meets the merges
 * of the runs before it, so neither side always pays for its place. A
 * round starts on a quiet machine; its sides then run back to back.
 */
export async function peerRound(
  kafka: Kafka,
  stack: { brokers: string; clickhouse: { url: string; pid?: number } },
  options: { index: number; events: number; baseline?: string; say: (line: string) => void },
): Promise<PeerRound> {
  const { index: i, say } = options;
  const namespace = `peer${i}`;
  const topics = topicNames(namespace);
  await ensureTopics(kafka, Object.values(topics), 6);
  // What the previous section left running (the host merging its parts) is not any side's to pay.
  await waitForQuietMachine(say);
  say(`round ${i + 1}: producing ${options.events.toLocaleString('en-US')} JSON click messages…`);
  const load = await produceLoad(kafka, topics, { seed: 77 + i, events: options.events, avroShare: 0, malformedShare: 0, end: new Date(Date.now() - 86_400_000) }, say, ['clicks']);
  await readOnceBeforeTiming(kafka, topics, load);
  const hostPid = stack.clickhouse.pid;
  const env = { brokers: stack.brokers, clickhouseUrl: stack.clickhouse.url, namespace, ...(hostPid !== undefined && { hostPid }) };
  let ours: IngestMeasurement | undefined;
  let baseline: IngestMeasurement | undefined;
  let peer: { result: KafkaEnginePeerResult; cpuUs: number } | undefined;
  const runPeer = async () => {
    const database = `peer_theirs${i}`;
    const admin = createClickHouse({ CLICKHOUSE_URL: stack.clickhouse.url, CLICKHOUSE_USER: 'default', CLICKHOUSE_PASSWORD: '', CLICKHOUSE_DATABASE: database }, { database: false });
    try {
      await migrate(admin, database);
      say('peer: ClickHouse Kafka engine + materialized views…');
      const before = hostPid === undefined ? 0 : cpuSeconds(hostPid);
      const result = await measureKafkaEnginePeer({ clickhouse: admin, brokers: stack.brokers, topic: topics.clicks, database, expectedRows: load.valid.clicks.size, say });
      peer = { result, cpuUs: hostPid === undefined ? Number.NaN : (1e6 * (cpuSeconds(hostPid) - before)) / load.messages };
    } finally {
      await admin.close();
    }
  };
  const runBaseline = async (checkout: string) => {
    baseline = await measureIngest(kafka, { ...env, database: `peer_base${i}`, group: 'crm-ingest-baseline' }, topics, load, say, checkout);
  };
  const runOurs = async () => {
    ours = await measureIngest(kafka, { ...env, database: `peer_ours${i}` }, topics, load, say);
  };
  const steps: { name: string; run: () => Promise<void> }[] = [
    ...(options.baseline ? [{ name: 'baseline', run: () => runBaseline(options.baseline!) }] : []),
    { name: 'ours', run: runOurs },
    { name: 'peer', run: runPeer },
  ];
  const ordered = i % 2 === 0 ? steps : [...steps].reverse();
  for (const step of ordered) await step.run();
  return {
    messages: load.messages,
    validClicks: load.valid.clicks.size,
    ours: ours!,
    ...(baseline && { baseline }),
    peer: peer!.result,
    peerCpuUsPerMessage: peer!.cpuUs,
    order: ordered.map((s) => s.name).join(', '),
  };
}

/** Ours and the peer over several rounds: the rates of all their messages over all their seconds, so a slow round weighs as its time. */
export function combinedRates(rounds: readonly PeerRound[]): { ours: number; peer: number; ratio: number } {
  const sum = (f: (r: PeerRound) => number) => rounds.reduce((a, r) => a + f(r), 0);
  const ours = sum((r) => r.messages) / sum((r) => r.ours.seconds);
  const peer = sum((r) => r.peer.rows) / sum((r) => r.peer.seconds);
  return { ours, peer, ratio: ours / peer };
}
