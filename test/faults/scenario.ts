/**
 * The fault-injection scenario (issue 6, item 2), shared by the full suite
 * (`pnpm test:faults`) and the short form in the normal test run.
 *
 * It runs the whole pipeline on infrastructure of its own — a Kafka broker
 * (KRaft, temp directory, free ports) and the embedded ClickHouse host as a
 * child process on a fixed port and data directory, both of which it stops and
 * starts again — with ingest, scoring and publisher as child processes. While a
 * seeded load (JSON and Avro, malformed messages, re-deliveries) is produced at
 * a steady rate, it injects faults at seeded random points, then lets the
 * pipeline settle (bounded waits with progress) and checks the result against
 * what was produced and against a clean run on the same events.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka, Message, Producer } from 'kafkajs';
import { createClickHouse, type ClickHouseClient } from '@crm/clickhouse';
import { decodeEvent } from '@crm/events';
import { createKafka, createProducer, ensureTopics, groupId, topicNames, type TopicNames } from '@crm/kafka';
import { freePort, provisionKafka, runningPid, startBroker, stopBroker } from '@crm/kafka-local';
import { createLogger, isProcessAlive, sleep } from '@crm/runtime';
import { generateLoad, seededRandom, type LoadMessage } from '@crm/sample-data';
import { runScoring } from '@crm/scoring';
import { CUSTOMER_AT_RISK, publisherBacklog, SEGMENT_CHANGES } from '@crm/publisher';
import {
  checkDeadLetters,
  checkPublished,
  compareHistory,
  compareRawTables,
  deadLetterKey,
  readOutbox,
  RAW_TABLES,
  type DeadLetterCheck,
  type ProfileCheck,
  type PublishedCheck,
  type RawCheck,
  type RawTable,
} from './checks.js';
import { endOffsets, groupLag, readToEnd, Supervisor, type ServiceExit, type SupervisorContext } from './stack.js';

export const FAULT_KINDS = ['kill-ingest', 'kill-scoring', 'kill-publisher', 'restart-broker', 'restart-clickhouse', 'duplicate-flood', 'replay'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

type Range = readonly [number, number];

export interface FaultScenarioOptions {
  seed: number;
  /** Messages of the generated load (malformed ones and re-deliveries included). */
  events: number;
  /** How long the steady produce lasts; faults fall within it. */
  produceSeconds: number;
  /** Faults injected during the produce; every kind ⌊faults / 7⌋ times, the rest drawn (kills likelier). */
  faults: number;
  /** Only these kinds of fault (default all), e.g. to study one of them. */
  kinds?: readonly FaultKind[];
  /** Extra environment for ingest, scoring and publisher (e.g. another INGEST_SESSION_TIMEOUT_MS). */
  serviceEnv?: Readonly<Record<string, string>>;
  /** Messages per produced chunk (the unit of replays). Default 1000. */
  chunkSize?: number;
  /** A killed service is started again after this long. Default 0–2 s. */
  serviceDownMs?: Range;
  /** The broker stays down this long. Default 2–6 s. */
  brokerDownMs?: Range;
  /** The ClickHouse host stays down this long. Default 2–6 s. */
  clickhouseDownMs?: Range;
  /** How the ClickHouse host is stopped: SIGTERM (a stop), SIGKILL (a crash) or either, drawn per fault. Default SIGTERM. */
  clickhouseStop?: 'SIGTERM' | 'SIGKILL' | 'mixed';
  /** Valid messages sent again in one flood. Default 1000–4000. */
  floodMessages?: Range;
  /** Earlier chunks re-produced by one replay. Default 1–3. */
  replayChunks?: Range;
  /** Bound of each wait of the final phase. Default 240 s. */
  settleTimeoutMs?: number;
  /** Keep every service's full output (and the broker's log) here. */
  logDir?: string;
  /** Start the services with the broker down, then again with ClickHouse down, before the produce. Default true. */
  startupFaults?: boolean;
  /** Scoring's schedule. Default 5 s. */
  scoringIntervalSeconds?: number;
  malformedShare?: number;
  duplicateShare?: number;
  log?: (line: string) => void;
}

/** Faults of the start-up phase: services started while a dependency is down. */
export type StartupFault = 'broker-down-at-start' | 'clickhouse-down-at-start';

export interface FaultRecord {
  kind: FaultKind | StartupFault;
  atSeconds: number;
  ms: number;
  detail: string;
  /** A killed service: how long after its restart it logged its readiness line (filled in when it does). */
  readyAfterMs?: number;
}

export interface SettleRecord {
  name: string;
  ms: number;
  reached: boolean;
  last: string;
}

export interface FaultReport {
  seed: number;
  asOf: string;
  durations: { startupMs: number; produceMs: number; settleMs: number; cleanRunMs: number; totalMs: number };
  load: { messages: number; valid: number; malformed: number; redeliveries: number; flooded: number; replayed: number; inputMessages: number };
  faults: FaultRecord[];
  unexpectedExits: ServiceExit[];
  /** Exit codes of the final graceful stops (0 expected). */
  shutdowns: { service: string; code: number | null; forced: boolean; lastLines: string[] }[];
  waits: SettleRecord[];
  raw: RawCheck[];
  cleanRaw: RawCheck[];
  deadLetters: DeadLetterCheck;
  published: PublishedCheck;
  profiles: ProfileCheck;
  scoringRuns: { faulted: { ms: number; customers: number; buyers: number }; clean: { ms: number; customers: number; buyers: number } };
}

const INPUTS = ['orders', 'clicks', 'tickets', 'surveys'] as const;
const RESCORED = ['orders', 'tickets', 'surveys'] as const;
const DAY = 86_400_000;
const NAMESPACE = 'faults';
const CLEAN_DATABASE = 'crm_clean';
const CLEAN_GROUP = 'crm-ingest-clean';

interface Plan {
  chunks: LoadMessage[][];
  valid: LoadMessage[];
  expected: Record<RawTable, Set<string>>;
  malformed: Map<string, { input: string; reason: string; fault: string }>;
  counts: { messages: number; valid: number; malformed: number; redeliveries: number };
}

/** The load, and what each raw table and the dead-letter topic must end up holding. */
function planLoad(options: FaultScenarioOptions, end: Date): Plan {
  const chunks: LoadMessage[][] = [];
  const expected = Object.fromEntries(RAW_TABLES.map((t) => [t, new Set<string>()])) as Record<RawTable, Set<string>>;
  const malformed = new Map<string, { input: string; reason: string; fault: string }>();
  const valid: LoadMessage[] = [];
  const counts = { messages: 0, valid: 0, malformed: 0, redeliveries: 0 };
  for (const chunk of generateLoad({
    seed: options.seed,
    events: options.events,
    chunkSize: options.chunkSize ?? 1_000,
    end,
    idPrefix: `f${options.seed}`,
    malformedShare: options.malformedShare ?? 0.005,
    duplicateShare: options.duplicateShare ?? 0.01,
  })) {
    chunks.push(chunk.messages);
    for (const m of chunk.messages) {
      counts.messages++;
      if (!m.valid) {
        counts.malformed++;
        malformed.set(deadLetterKey(m.topic, m.value, m.reason), { input: m.topic, reason: m.reason, fault: m.fault });
        continue;
      }
      valid.push(m);
      if (m.redelivery) {
        counts.redeliveries++;
        continue;
      }
      counts.valid++;
      expected[m.topic].add(m.eventId);
      if (m.topic === 'clicks') {
        const decoded = decodeEvent('clicks', m.value, m.headers['content-type']!);
        if (!decoded.ok) throw new Error(`the load's valid click ${m.eventId} does not decode: ${decoded.rejection.message}`);
        if (decoded.event.customer_id !== null) expected.identity_links.add(m.eventId);
      }
    }
  }
  return { chunks, valid, expected, malformed, counts };
}

/** The faults and when they happen: one per equal slot of the produce, at a seeded point inside it. */
export function planFaults(options: FaultScenarioOptions, random: () => number): { kind: FaultKind; atMs: number }[] {
  const shuffle = <T>(items: T[]): T[] => {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  };
  // Every kind comes equally often (⌊faults / kinds⌋ rounds); the remainder is drawn, kills likelier.
  const weights: Record<FaultKind, number> = {
    'kill-ingest': 3,
    'kill-scoring': 3,
    'kill-publisher': 3,
    'restart-broker': 1,
    'restart-clickhouse': 1,
    'duplicate-flood': 1,
    replay: 1,
  };
  const allowed = FAULT_KINDS.filter((k) => options.kinds?.includes(k) ?? true);
  const rounds = Math.floor(options.faults / allowed.length);
  const kinds: FaultKind[] = rounds > 0 ? allowed.flatMap((k) => Array<FaultKind>(rounds).fill(k)) : shuffle([...allowed]).slice(0, options.faults);
  const total = allowed.reduce((sum, k) => sum + weights[k], 0);
  while (kinds.length < options.faults) {
    let u = random() * total;
    kinds.push(allowed.find((k) => (u -= weights[k]) < 0) ?? allowed[0]!);
  }
  shuffle(kinds);
  const span = options.produceSeconds * 1000;
  const from = 0.06 * span;
  const slot = (0.9 * span) / Math.max(1, kinds.length);
  return kinds.map((kind, i) => ({ kind, atMs: Math.round(from + slot * (i + random() * 0.8)) }));
}

const between = (random: () => number, [low, high]: Range) => Math.round(low + random() * (high - low));

export class FaultScenario {
  private started = Date.now();
  private readonly random: () => number;
  private readonly log: (line: string) => void;
  private disposedFlag = false;
  private disposing: Promise<void> | undefined;
  private activity = 'start-up';
  private readonly dirs: string[] = [];
  private brokerDir: string | undefined;
  private brokerPorts: { port: number; controllerPort: number } | undefined;
  private host: Supervisor | undefined;
  private readonly supervisors: Supervisor[] = [];
  private kafka: Kafka | undefined;
  private topics: TopicNames = topicNames(NAMESPACE);
  private readonly clients: ClickHouseClient[] = [];
  private readonly producers = new Map<string, Producer>();
  private producedChunks = 0;
  private readonly extra = { flooded: 0, replayed: 0 };
  private readonly exitHook = () => this.killEverythingNow();
  /** Ctrl-C or a SIGTERM to the test process: kill what this scenario started (the broker runs detached), then let the signal do what it would have done. */
  private readonly signalHook = (signal: NodeJS.Signals) => {
    this.killEverythingNow();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  private readonly context: SupervisorContext;

  constructor(readonly options: FaultScenarioOptions) {
    this.random = seededRandom((options.seed ^ 0x5eed_fa17) >>> 0);
    const say = options.log ?? ((line: string) => console.log(line));
    this.log = (line) => say(`[faults +${this.elapsedSeconds().toFixed(1)}s] ${line}`);
    this.context = {
      log: (line) => this.log(line),
      elapsedSeconds: () => Math.round(this.elapsedSeconds() * 10) / 10,
      currentActivity: () => this.activity,
      disposed: () => this.disposedFlag,
      ...(options.logDir && { logDir: options.logDir }),
    };
  }

  private elapsedSeconds(): number {
    return (Date.now() - this.started) / 1000;
  }

  async run(): Promise<FaultReport> {
    this.started = Date.now();
    process.once('exit', this.exitHook);
    process.once('SIGINT', this.signalHook);
    process.once('SIGTERM', this.signalHook);
    if (this.options.logDir) mkdirSync(this.options.logDir, { recursive: true });
    try {
      return await this.execute();
    } finally {
      await this.dispose();
    }
  }

  private async execute(): Promise<FaultReport> {
    const options = this.options;
    // The events end a day before now at the latest (never in the future), at a fixed instant when possible, so a seed replays.
    const end = new Date(Math.min(Date.parse('2026-11-01T00:00:00Z'), Math.floor(Date.now() / DAY) * DAY - DAY));
    const plan = planLoad(options, end);
    const plannedFaults = planFaults(options, this.random);
    this.log(
      `seed ${options.seed}: ${plan.counts.messages} messages (${plan.counts.valid} valid events, ${plan.counts.malformed} malformed, ${plan.counts.redeliveries} re-deliveries) over ${options.produceSeconds} s; faults: ${plannedFaults.map((f) => `${f.kind}@${(f.atMs / 1000).toFixed(0)}s`).join(', ')}`,
    );

    // Infrastructure of its own: a broker and a ClickHouse host that this scenario stops and starts (started side by side).
    const chPort = await freePort();
    this.host = this.supervise('clickhouse-host', 'services/clickhouse-host/src/main.ts', { CRM_CLICKHOUSE_PORT: String(chPort), CRM_CLICKHOUSE_DATA_DIR: this.tempDir('crm-faults-ch-') }, 'listening');
    this.host.start();
    await provisionKafka(undefined, (line) => this.log(`[kafka] ${line}`));
    this.brokerDir = this.tempDir('crm-faults-kafka-');
    this.brokerPorts = { port: await freePort(), controllerPort: await freePort() };
    const brokers = `127.0.0.1:${this.brokerPorts.port}`;
    await this.host.ready();
    const clickhouseUrl = `http://127.0.0.1:${chPort}`;
    this.kafka = createKafka({ KAFKA_BROKERS: brokers }, { clientId: 'crm-faults', logger: createLogger('faults', 'silent') });

    const env: Record<string, string> = {
      KAFKA_BROKERS: brokers,
      CLICKHOUSE_URL: clickhouseUrl,
      CLICKHOUSE_USER: 'default',
      CLICKHOUSE_PASSWORD: '',
      CLICKHOUSE_DATABASE: 'crm',
      CRM_TOPIC_NAMESPACE: NAMESPACE,
      CRM_TOPIC_PARTITIONS: '6',
      CRM_FX_RATES: '{}',
      INGEST_HEALTH_PORT: '0',
      SCORING_HEALTH_PORT: '0',
      PUBLISHER_HEALTH_PORT: '0',
      // The broker's minimum: a killed ingest's (or scoring's) partitions move on within seconds.
      INGEST_SESSION_TIMEOUT_MS: '6000',
      SCORING_SESSION_TIMEOUT_MS: '6000',
      SCORING_INTERVAL_SECONDS: String(options.scoringIntervalSeconds ?? 5),
      SCORING_INCREMENTAL: 'true',
      PUBLISHER_POLL_MS: '200',
      LOG_LEVEL: 'info',
      ...options.serviceEnv,
    };
    const services = {
      ingest: this.supervise('ingest', 'services/ingest/src/main.ts', env, 'ingest running'),
      scoring: this.supervise('scoring', 'services/scoring/src/main.ts', env, 'scoring running'),
      publisher: this.supervise('publisher', 'services/publisher/src/main.ts', env, 'publisher running'),
    };
    const all = [services.ingest, services.scoring, services.publisher];
    const faults: FaultRecord[] = [];
    const shutdowns: FaultReport['shutdowns'] = [];
    const startupFaults = options.startupFaults ?? true;

    if (startupFaults) {
      // Broker down while services start: they wait (each logs its wait), none exits; then the broker comes.
      this.activity = 'broker-down-at-start';
      const began = Date.now();
      for (const s of all) s.start();
      await Promise.all(all.map((s) => this.loggedWaits(s, /^(Kafka \(producer\)|incremental consumer): not available yet/)));
      const waited = Date.now() - began;
      const broker = await this.startBroker();
      await ensureTopics(this.kafka, Object.values(this.topics), 6);
      await Promise.all(all.map((s) => s.ready()));
      faults.push({ kind: 'broker-down-at-start', atSeconds: Math.round((began - this.started) / 100) / 10, ms: Date.now() - began, detail: `services waited ${waited} ms, broker started (pid ${broker.pid}), all ready` });
      this.log(`broker-down-at-start: ${faults.at(-1)!.detail} (${faults.at(-1)!.ms} ms)`);

      // ClickHouse down while services start: a graceful stop of everything, ClickHouse stopped, services started again.
      this.activity = 'clickhouse-down-at-start';
      const began2 = Date.now();
      for (const s of all) shutdowns.push({ service: s.name, ...(await s.stop()) });
      await this.host.stop(30_000);
      for (const s of all) s.start();
      await Promise.all(all.map((s) => this.loggedWaits(s, /^ClickHouse \(migrations\): not available yet/)));
      const waited2 = Date.now() - began2;
      this.host.start();
      await this.host.ready();
      await Promise.all(all.map((s) => s.ready()));
      faults.push({ kind: 'clickhouse-down-at-start', atSeconds: Math.round((began2 - this.started) / 100) / 10, ms: Date.now() - began2, detail: `services waited ${waited2} ms, ClickHouse started, all ready` });
      this.log(`clickhouse-down-at-start: ${faults.at(-1)!.detail} (${faults.at(-1)!.ms} ms)`);
    } else {
      await this.startBroker();
      await ensureTopics(this.kafka, Object.values(this.topics), 6);
      // Ingest first: it applies the migrations the others then find done.
      services.ingest.start();
      await services.ingest.ready();
      services.scoring.start();
      services.publisher.start();
      await Promise.all([services.scoring.ready(), services.publisher.ready()]);
    }
    this.log(`broker ${brokers}, ClickHouse host ${clickhouseUrl} (pid ${this.host.pid})`);
    const startupMs = Date.now() - this.started;
    this.log(`stack up in ${(startupMs / 1000).toFixed(1)} s`);

    // Steady produce, faults alongside.
    this.activity = 'steady produce';
    const produceStart = Date.now();
    await Promise.all([this.produceSteadily(plan, produceStart), this.injectFaults(plannedFaults, produceStart, plan, services, faults)]);
    const produceMs = Date.now() - produceStart;
    this.log(`produce and faults done in ${(produceMs / 1000).toFixed(1)} s (${this.extra.flooded} flooded, ${this.extra.replayed} replayed)`);

    // Settle: everything must resume and converge.
    this.activity = 'settling';
    const settleStart = Date.now();
    if (runningPid(this.brokerDir) === undefined) {
      this.log('!! the broker is not running after the faults; starting it');
      await this.startBroker();
    }
    for (const s of [this.host, services.ingest, services.scoring, services.publisher]) if (!s.alive) s.start();
    await this.host.ready();
    const clickhouse = this.client(clickhouseUrl, 'crm');
    const kafka = this.kafka;
    const inputTopics = INPUTS.map((n) => this.topics[n]);
    const waits: SettleRecord[] = [];
    const settleTimeout = options.settleTimeoutMs ?? 240_000;

    waits.push(
      await this.settle('ingest commits every input message', settleTimeout, async () => {
        const lag = await groupLag(kafka, groupId(NAMESPACE, 'crm-ingest'), inputTopics);
        return { done: lag.lag === 0n, progress: `${lag.committed}/${lag.end} committed` };
      }),
    );
    const caughtUpAt = Date.now();
    const raw = await compareRawTables(clickhouse, plan.expected);
    // The dead letters so far are the faulted ingest's; the clean run (started now, in parallel with the
    // rest of the settling, on its own group and database) adds its own after this point.
    const deadLetterEnds = (await endOffsets(kafka, [this.topics.deadLetter])).get(this.topics.deadLetter)!;
    this.activity = 'settling (clean ingest running alongside)';
    const cleanStart = Date.now();
    const cleanIngest = this.supervise('ingest-clean', 'services/ingest/src/main.ts', { ...env, INGEST_GROUP_ID: CLEAN_GROUP, CLICKHOUSE_DATABASE: CLEAN_DATABASE }, 'ingest running');
    cleanIngest.start();
    const deadLetters = checkDeadLetters(
      await readToEnd(kafka, this.topics.deadLetter, deadLetterEnds),
      plan.malformed,
      new Map(INPUTS.map((n) => [this.topics[n], n])),
    );
    this.log(`raw tables: ${raw.map((r) => `${r.table} ${r.unique}/${r.expected}`).join(', ')}; dead letters: ${deadLetters.messages} for ${deadLetters.expected} malformed`);

    waits.push(
      await this.settle('scoring re-scores every event and runs once after ingest caught up', settleTimeout, async () => {
        const lag = await groupLag(kafka, groupId(NAMESPACE, 'crm-scoring-incremental'), RESCORED.map((n) => this.topics[n]));
        const run = services.scoring.lines.some((l) => l.msg === 'scoring run done' && Date.parse(String(l.asOf)) > caughtUpAt);
        return { done: lag.lag === 0n && run, progress: `incremental ${lag.committed}/${lag.end} committed; full run after catch-up ${run ? 'done' : 'pending'}` };
      }),
    );
    // A graceful stop finishes the running full run, so the outbox is final afterwards.
    shutdowns.push({ service: 'scoring', ...(await services.scoring.stop()) });

    const outbox = await readOutbox(clickhouse);
    waits.push(
      await this.settle('publisher sends every committed outbox row', settleTimeout, async () => {
        const behind = await this.publisherBehind(clickhouse);
        return { done: behind.every((b) => b.done), progress: behind.map((b) => `${b.stream}: ${b.text}`).join('; ') };
      }),
    );
    shutdowns.push({ service: 'publisher', ...(await services.publisher.stop()) });
    const published = checkPublished(outbox, await readToEnd(kafka, this.topics.segmentChanges), await readToEnd(kafka, this.topics.customerAtRisk));
    this.log(
      `published: ${published.messages.segmentChanges} segment changes for ${published.expected.segmentChanges} outbox rows, ${published.messages.atRisk} at-risk for ${published.expected.atRisk}`,
    );
    shutdowns.push({ service: 'ingest', ...(await services.ingest.stop()) });
    const settleMs = Date.now() - settleStart;

    // The clean run: the same topics from the start, its own group and database, no faults.
    this.activity = 'clean run';
    await cleanIngest.ready();
    waits.push(
      await this.settle('clean ingest commits every input message', settleTimeout, async () => {
        const lag = await groupLag(kafka, groupId(NAMESPACE, CLEAN_GROUP), inputTopics);
        return { done: lag.lag === 0n, progress: `${lag.committed}/${lag.end} committed` };
      }),
    );
    shutdowns.push({ service: 'ingest-clean', ...(await cleanIngest.stop()) });
    const cleanClient = this.client(clickhouseUrl, CLEAN_DATABASE);
    const cleanRaw = await compareRawTables(cleanClient, plan.expected);
    // One full run as of the same fixed instant in both databases; history at that as_of is comparable
    // (incremental updates write profiles with later as_of, full runs as of now write history at other instants).
    const asOf = end;
    const faultedRun = await runScoring(clickhouse, asOf);
    const cleanRun = await runScoring(cleanClient, asOf);
    const profiles = await compareHistory(clickhouse, cleanClient, asOf);
    const cleanRunMs = Date.now() - cleanStart;
    this.log(`profiles as of ${asOf.toISOString()}: ${profiles.faulted} faulted vs ${profiles.clean} clean, ${profiles.mismatches} differ`);

    return {
      seed: options.seed,
      asOf: asOf.toISOString(),
      durations: { startupMs, produceMs, settleMs, cleanRunMs, totalMs: Date.now() - this.started },
      load: { ...plan.counts, ...this.extra, inputMessages: Number((await groupLag(kafka, groupId(NAMESPACE, CLEAN_GROUP), inputTopics)).end) },
      faults,
      unexpectedExits: this.supervisors.flatMap((s) => s.unexpectedExits).sort((a, b) => a.atSeconds - b.atSeconds),
      shutdowns,
      waits,
      raw,
      cleanRaw,
      deadLetters,
      published,
      profiles,
      scoringRuns: {
        faulted: { ms: faultedRun.ms, customers: faultedRun.customers, buyers: faultedRun.buyers },
        clean: { ms: cleanRun.ms, customers: cleanRun.customers, buyers: cleanRun.buyers },
      },
    };
  }

  /** Until a service logged a wait for a dependency (it tried, failed and backs off), and is still alive. */
  private async loggedWaits(service: Supervisor, message: RegExp): Promise<void> {
    const proc = service.current!;
    const deadline = Date.now() + 120_000;
    while (!proc.lines.some((l) => message.test(String(l.msg ?? '')))) {
      if (!service.alive) throw new Error(`${service.name} exited while waiting for a dependency`);
      if (Date.now() > deadline) throw new Error(`${service.name} logged no wait matching ${message} in 120 s`);
      await sleep(200);
    }
  }

  /** Starts (or finds) the scenario's broker; one started while the scenario was being disposed is stopped again. */
  private async startBroker(): Promise<Awaited<ReturnType<typeof startBroker>>> {
    if (this.disposedFlag) throw new Error('the scenario was disposed');
    const info = await startBroker({ dir: this.brokerDir!, ...this.brokerPorts!, startTimeoutMs: 120_000 });
    if (this.disposedFlag) {
      await stopBroker(this.brokerDir!, 15_000);
      throw new Error('the scenario was disposed');
    }
    return info;
  }

  private supervise(name: string, script: string, env: Record<string, string>, ready: string): Supervisor {
    const supervisor = new Supervisor(name, script, env, ready, this.context);
    this.supervisors.push(supervisor);
    return supervisor;
  }

  private tempDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  private client(url: string, database: string): ClickHouseClient {
    const client = createClickHouse({ CLICKHOUSE_URL: url, CLICKHOUSE_USER: 'default', CLICKHOUSE_PASSWORD: '', CLICKHOUSE_DATABASE: database });
    this.clients.push(client);
    return client;
  }

  /** A bounded wait with progress every 10 s; a wait that runs out is recorded, and the checks then say what is missing. */
  private async settle(name: string, timeoutMs: number, probe: () => Promise<{ done: boolean; progress: string }>): Promise<SettleRecord> {
    const started = Date.now();
    let lastLog = started;
    let last = '';
    for (;;) {
      if (this.disposedFlag) throw new Error('the scenario was disposed');
      try {
        const state = await probe();
        last = state.progress;
        if (state.done) {
          this.log(`${name}: reached in ${((Date.now() - started) / 1000).toFixed(1)} s (${last})`);
          return { name, ms: Date.now() - started, reached: true, last };
        }
      } catch (error) {
        last = `probe failed: ${(error as Error).message.slice(0, 200)}`;
      }
      if (Date.now() - started > timeoutMs) {
        this.log(`!! ${name}: not reached in ${timeoutMs / 1000} s (${last})`);
        return { name, ms: Date.now() - started, reached: false, last };
      }
      if (Date.now() - lastLog >= 10_000) {
        lastLog = Date.now();
        this.log(`${name}: waiting ${((Date.now() - started) / 1000).toFixed(0)} s (${last})`);
      }
      await sleep(1_000);
    }
  }

  /** Per publisher stream: the commit marks it has not recorded as published yet. */
  private async publisherBehind(clickhouse: ClickHouseClient): Promise<{ stream: string; done: boolean; text: string }[]> {
    return Promise.all(
      [SEGMENT_CHANGES, CUSTOMER_AT_RISK].map(async (stream) => {
        const { marks, pending } = await publisherBacklog(clickhouse, stream);
        return { stream: stream.name, done: pending === 0, text: `${pending} of ${marks} commit marks not yet published` };
      }),
    );
  }

  /** One producer per purpose; replaced after a failure (the broker may have gone and come back). */
  private async producer(slot: string): Promise<Producer> {
    let producer = this.producers.get(slot);
    if (!producer) {
      producer = createProducer(this.kafka!);
      this.producers.set(slot, producer);
      await producer.connect();
    }
    return producer;
  }

  /** Sends until the broker acknowledged; a resend after a failure is a duplicate, which the pipeline must absorb. */
  private async send(slot: string, messages: readonly LoadMessage[]): Promise<void> {
    for (let i = 0; i < messages.length; i += 2_000) {
      const byTopic = new Map<string, Message[]>();
      for (const m of messages.slice(i, i + 2_000)) {
        const topic = this.topics[m.topic];
        const list = byTopic.get(topic) ?? [];
        list.push({ key: m.key, value: m.value, headers: m.headers });
        byTopic.set(topic, list);
      }
      const topicMessages = [...byTopic].map(([topic, list]) => ({ topic, messages: list }));
      for (let attempt = 1; ; attempt++) {
        if (this.disposedFlag) throw new Error('the scenario was disposed');
        try {
          await (await this.producer(slot)).sendBatch({ acks: -1, topicMessages });
          break;
        } catch (error) {
          if (attempt === 1 || attempt % 10 === 0) this.log(`produce (${slot}) failed, attempt ${attempt}, retrying: ${(error as Error).message.slice(0, 160)}`);
          const failed = this.producers.get(slot);
          this.producers.delete(slot);
          await Promise.race([failed?.disconnect().catch(() => undefined), sleep(5_000)]);
          await sleep(Math.min(5_000, 300 * attempt));
        }
      }
    }
  }

  private async produceSteadily(plan: Plan, start: number): Promise<void> {
    const spacing = (this.options.produceSeconds * 1000) / plan.chunks.length;
    for (let i = 0; i < plan.chunks.length; i++) {
      const due = start + i * spacing;
      if (Date.now() < due) await sleep(due - Date.now());
      if (this.disposedFlag) return;
      await this.send('steady', plan.chunks[i]!);
      this.producedChunks = i + 1;
    }
  }

  private async injectFaults(
    planned: { kind: FaultKind; atMs: number }[],
    start: number,
    plan: Plan,
    services: Record<'ingest' | 'scoring' | 'publisher', Supervisor>,
    records: FaultRecord[],
  ): Promise<void> {
    for (const [i, fault] of planned.entries()) {
      const due = start + fault.atMs;
      if (Date.now() < due) await sleep(due - Date.now());
      if (this.disposedFlag) return;
      this.activity = `${fault.kind} (fault ${i + 1}/${planned.length})`;
      const began = Date.now();
      const detail = await this.inject(fault.kind, plan, services);
      const record: FaultRecord = { kind: fault.kind, atSeconds: Math.round((began - this.started) / 100) / 10, ms: Date.now() - began, detail };
      records.push(record);
      this.log(`fault ${i + 1}/${planned.length} ${fault.kind}: ${detail} (${record.ms} ms)`);
      if (fault.kind.startsWith('kill-')) {
        const service = services[fault.kind.slice(5) as 'ingest' | 'scoring' | 'publisher'];
        const restarted = Date.now();
        // This instance's readiness only: if it is killed first, it never was ready.
        service.current?.waitForLog((l) => l.msg === service.readyMessage, 600_000).then(
          () => (record.readyAfterMs = Date.now() - restarted),
          () => undefined,
        );
      }
      this.activity = 'steady produce';
    }
  }

  private async inject(kind: FaultKind, plan: Plan, services: Record<'ingest' | 'scoring' | 'publisher', Supervisor>): Promise<string> {
    const options = this.options;
    switch (kind) {
      case 'kill-ingest':
      case 'kill-scoring':
      case 'kill-publisher': {
        const service = services[kind.slice(5) as 'ingest' | 'scoring' | 'publisher'];
        const down = between(this.random, options.serviceDownMs ?? [0, 2_000]);
        const pid = service.pid;
        const uptime = pid === undefined ? 'was not running' : `pid ${pid}`;
        await service.kill('SIGKILL');
        await sleep(down);
        service.start();
        return `SIGKILL (${uptime}), started again after ${down} ms`;
      }
      case 'restart-broker': {
        const down = between(this.random, options.brokerDownMs ?? [2_000, 6_000]);
        const t = Date.now();
        const stopped = await stopBroker(this.brokerDir!);
        const stopMs = Date.now() - t;
        await sleep(down);
        const t2 = Date.now();
        const info = await this.startBroker();
        return `${stopped ? 'stopped' : 'was not running'} (SIGTERM, ${stopMs} ms), down ${down} ms, started again in ${Date.now() - t2} ms (pid ${info.pid})`;
      }
      case 'restart-clickhouse': {
        const down = between(this.random, options.clickhouseDownMs ?? [2_000, 6_000]);
        const mode = options.clickhouseStop ?? 'SIGTERM';
        const signal: NodeJS.Signals = mode === 'mixed' ? (this.random() < 0.5 ? 'SIGTERM' : 'SIGKILL') : mode;
        const host = this.host!;
        const t = Date.now();
        const stop = signal === 'SIGTERM' ? await host.stop(30_000) : { code: await host.kill('SIGKILL'), forced: false };
        const stopMs = Date.now() - t;
        await sleep(down);
        const t2 = Date.now();
        host.start();
        await host.ready();
        return `${signal} (exit ${stop.code}${stop.forced ? ', had to be killed' : ''}, ${stopMs} ms), down ${down} ms, listening again in ${Date.now() - t2} ms`;
      }
      case 'duplicate-flood': {
        const produced = plan.chunks.slice(0, Math.max(1, this.producedChunks)).reduce((n, c) => n + c.length, 0);
        const pool = plan.valid.filter((_, i) => i < produced * 0.995);
        const n = between(this.random, options.floodMessages ?? [1_000, 4_000]);
        const flood: LoadMessage[] = [];
        while (flood.length < n && pool.length > 0) {
          const m = pool[Math.floor(this.random() * pool.length)]!;
          for (let copies = 1 + Math.floor(this.random() * 3); copies > 0 && flood.length < n; copies--) flood.push(m);
        }
        await this.send('faults', flood);
        this.extra.flooded += flood.length;
        return `${flood.length} copies of earlier valid messages`;
      }
      case 'replay': {
        const k = between(this.random, options.replayChunks ?? [1, 3]);
        const available = Math.max(1, this.producedChunks);
        const chosen = Array.from({ length: k }, () => Math.floor(this.random() * available));
        const messages = chosen.flatMap((c) => plan.chunks[c]!);
        await this.send('faults', messages);
        this.extra.replayed += messages.length;
        return `chunks ${chosen.join(', ')} re-produced (${messages.length} messages)`;
      }
    }
  }

  /** Stops everything this scenario started, on every path; safe to call more than once. */
  dispose(): Promise<void> {
    this.disposing ??= (async () => {
      this.disposedFlag = true;
      for (const producer of this.producers.values()) await Promise.race([producer.disconnect().catch(() => undefined), sleep(5_000)]);
      this.producers.clear();
      for (const client of this.clients) await client.close().catch(() => undefined);
      for (const s of this.supervisors) if (s !== this.host && s.alive) await s.kill('SIGKILL');
      if (this.host?.alive) await this.host.stop(30_000);
      if (this.brokerDir) await stopBroker(this.brokerDir, 15_000).catch(() => undefined);
      if (this.brokerDir && this.options.logDir) {
        for (const f of ['broker.log.1', 'broker.log']) if (existsSync(join(this.brokerDir, f))) copyFileSync(join(this.brokerDir, f), join(this.options.logDir, f));
      }
      for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
      process.removeListener('exit', this.exitHook);
      process.removeListener('SIGINT', this.signalHook);
      process.removeListener('SIGTERM', this.signalHook);
    })();
    return this.disposing;
  }

  /** Synchronous last resort when the test process exits without dispose having finished. */
  private killEverythingNow(): void {
    for (const s of this.supervisors) s.killNow();
    const pid = this.brokerDir ? runningPid(this.brokerDir) : undefined;
    if (pid !== undefined && isProcessAlive(pid)) process.kill(pid, 'SIGKILL');
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
  }
}

export function runFaultScenario(options: FaultScenarioOptions): Promise<FaultReport> {
  return new FaultScenario(options).run();
}

/** A readable summary of a report, for the test output. */
export function formatReport(report: FaultReport): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const lines = [
    `fault scenario, seed ${report.seed}: total ${s(report.durations.totalMs)} (start-up ${s(report.durations.startupMs)}, produce+faults ${s(report.durations.produceMs)}, settle ${s(report.durations.settleMs)}, clean run ${s(report.durations.cleanRunMs)}, overlapping the settle)`,
    `load: ${report.load.messages} messages (${report.load.valid} valid events, ${report.load.malformed} malformed, ${report.load.redeliveries} re-deliveries) + ${report.load.flooded} flooded + ${report.load.replayed} replayed; ${report.load.inputMessages} input messages on the topics`,
    `faults (${report.faults.length}):`,
    ...report.faults.map((f) => `  +${f.atSeconds.toFixed(1)}s ${f.kind}: ${f.detail}${f.kind.startsWith('kill-') ? (f.readyAfterMs === undefined ? '; never ready (killed again first?)' : `; ready ${s(f.readyAfterMs)} after the restart`) : ''}`),
    `unexpected exits: ${report.unexpectedExits.length}`,
    ...report.unexpectedExits.map((e) => `  +${e.atSeconds}s ${e.service} #${e.instance} code ${e.code} signal ${e.signal} during ${e.during}:\n    ${e.lastLines.join('\n    ')}`),
    `final stops: ${report.shutdowns.map((x) => `${x.service} ${x.forced ? 'KILLED after the grace period' : `exit ${x.code}`}`).join(', ')}`,
    `waits: ${report.waits.map((w) => `${w.name} ${w.reached ? s(w.ms) : `NOT REACHED (${w.last})`}`).join('; ')}`,
    `raw (faulted): ${report.raw.map((r) => `${r.table} ${r.unique}/${r.expected} (rows ${r.rows}, missing ${r.missing}, extra ${r.extra})`).join('; ')}`,
    `raw (clean):   ${report.cleanRaw.map((r) => `${r.table} ${r.unique}/${r.expected} (missing ${r.missing}, extra ${r.extra})`).join('; ')}`,
    `dead letters: ${report.deadLetters.messages} messages for ${report.deadLetters.expected} malformed; missing ${report.deadLetters.missing}, wrong reason ${report.deadLetters.wrongReason}, unexpected ${report.deadLetters.unexpected}`,
    `published: segment changes ${report.published.messages.segmentChanges} messages for ${report.published.expected.segmentChanges} rows, at-risk ${report.published.messages.atRisk} for ${report.published.expected.atRisk}; missing ${report.published.missing}, unexpected ${report.published.unexpected}, conflicting ${report.published.conflicting}, wrong key ${report.published.wrongKey}, uncommitted outbox rows ${report.published.uncommitted}`,
    `profiles as of ${report.profiles.asOf}: ${report.profiles.faulted} faulted vs ${report.profiles.clean} clean history rows, ${report.profiles.mismatches} differ (max relative float difference ${report.profiles.maxRelativeFloatDifference.toExponential(2)}); scoring runs ${s(report.scoringRuns.faulted.ms)} / ${s(report.scoringRuns.clean.ms)}, ${report.scoringRuns.clean.buyers} buyers`,
    ...[...report.raw.flatMap((r) => r.samples.map((x) => `${r.table}: ${x}`)), ...report.deadLetters.samples, ...report.published.samples, ...report.profiles.samples].map((x) => `  ! ${x}`),
  ];
  return lines.join('\n');
}
