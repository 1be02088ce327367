import { existsSync, readFileSync } from 'node:fs';
import { CrmError, createLogger, sleep, type Env } from '@crm/runtime';
import { createKafka, ensureTopics, topicNames } from '@crm/kafka';
import { createClickHouse, migrate } from '@crm/clickhouse';
import { provisionKafka, runningPid, startBroker, stopBroker } from '@crm/kafka-local';
import { ensureGeneratedPassword, passwordFile, readGeneratedPassword } from './password.js';
import { controllerPort, stackPaths, usesLocalClickHouse, usesLocalKafka, type StackConfig } from './settings.js';
import { livePid, startProcess, stopProcess, type ManagedProcess } from './processes.js';
import { readSupervision } from './supervision.js';

export type Say = (line: string) => void;

const SERVICES = ['ingest', 'scoring', 'publisher', 'web'] as const;

function clickhouseHostProcess(config: StackConfig): ManagedProcess {
  return {
    name: 'clickhouse-host',
    script: 'services/clickhouse-host/src/main.ts',
    env: {
      CRM_CLICKHOUSE_PORT: String(config.CRM_CLICKHOUSE_PORT),
      CRM_CLICKHOUSE_DATA_DIR: stackPaths().clickhouseData,
      CLICKHOUSE_USER: config.CLICKHOUSE_USER,
      CLICKHOUSE_PASSWORD: config.CLICKHOUSE_PASSWORD,
    },
  };
}

function serviceProcess(name: (typeof SERVICES)[number], config: StackConfig): ManagedProcess {
  return {
    name,
    script: `services/${name}/src/main.ts`,
    env: {
      KAFKA_BROKERS: config.KAFKA_BROKERS,
      CLICKHOUSE_URL: config.CLICKHOUSE_URL,
      CLICKHOUSE_USER: config.CLICKHOUSE_USER,
      CLICKHOUSE_PASSWORD: config.CLICKHOUSE_PASSWORD,
      CRM_TOPIC_NAMESPACE: config.CRM_TOPIC_NAMESPACE,
      // Health ports are picked free so two stacks can run side by side; `crm status` reads them from the logs.
      INGEST_HEALTH_PORT: '0',
      SCORING_HEALTH_PORT: '0',
      PUBLISHER_HEALTH_PORT: '0',
      CRM_WEB_PORT: String(config.CRM_WEB_PORT),
      CRM_WEB_HOST: config.CRM_WEB_HOST,
      ...(config.CRM_WEB_TOKEN === undefined ? {} : { CRM_WEB_TOKEN: config.CRM_WEB_TOKEN }),
    },
  };
}

/**
 * Starts whatever of the local stack is not running yet: broker, topics, ClickHouse host, migrations, services.
 * `config` comes through withGeneratedPassword (main.ts), so the embedded host gets the generated
 * password unless CLICKHOUSE_PASSWORD is set (password.ts).
 */
export async function up(config: StackConfig, say: Say): Promise<void> {
  const paths = stackPaths();
  if (usesLocalKafka(config)) {
    await provisionKafka(undefined, say);
    say(`starting Kafka on 127.0.0.1:${config.CRM_KAFKA_PORT}…`);
    const broker = await startBroker({ dir: paths.kafka, port: config.CRM_KAFKA_PORT, controllerPort: controllerPort(config) });
    say(`Kafka ${broker.started ? 'started' : 'already running'} (pid ${broker.pid}, log ${broker.logFile})`);
  } else {
    say(`using Kafka at ${config.KAFKA_BROKERS}`);
  }
  if (usesLocalClickHouse(config)) {
    const host = startProcess(clickhouseHostProcess(config), paths);
    say(`ClickHouse host ${host.started ? 'started' : 'already running'} on ${config.CLICKHOUSE_URL} (pid ${host.pid}, log ${host.log})`);
    await waitForClickHouse(config, host.log);
  } else {
    say(`using ClickHouse at ${config.CLICKHOUSE_URL}`);
  }
  await init(config, say);

  for (const name of SERVICES) {
    const service = startProcess(serviceProcess(name, config), paths);
    say(`${name} ${service.started ? 'started' : 'already running'} (pid ${service.pid}, log ${service.log})`);
  }
}

/** The configuration with the embedded host's generated password, created now if needed; unchanged for an explicit password or another server. */
export function withGeneratedPassword(config: StackConfig): StackConfig {
  if (!usesLocalClickHouse(config) || ensureGeneratedPassword() === undefined) return config;
  return Object.freeze({ ...config, CLICKHOUSE_PASSWORD: readGeneratedPassword() ?? '' });
}

/** Creates missing topics and applies pending migrations: all a fresh Kafka and ClickHouse need. */
export async function init(config: StackConfig, say: Say): Promise<void> {
  const kafka = createKafka(config, { clientId: 'crm-cli', logger: createLogger('crm', 'error') });
  const created = await ensureTopics(kafka, Object.values(topicNames(config.CRM_TOPIC_NAMESPACE)), config.CRM_TOPIC_PARTITIONS);
  say(created.length > 0 ? `created topics: ${created.join(', ')}` : 'topics present');
  const admin = createClickHouse(config, { database: false });
  const applied = await migrate(admin, config.CLICKHOUSE_DATABASE).finally(() => admin.close());
  say(applied.length > 0 ? `applied migrations: ${applied.join(', ')}` : 'schema up to date');
}

/** Stops services first, so nothing is mid-write when ClickHouse and Kafka go. */
export async function down(config: StackConfig, say: Say): Promise<void> {
  const paths = stackPaths();
  for (const name of SERVICES) if (await stopProcess(paths.run, name)) say(`${name} stopped`);
  if (await stopProcess(paths.run, 'clickhouse-host')) say('ClickHouse host stopped');
  if (usesLocalKafka(config) && (await stopBroker(paths.kafka))) say('Kafka stopped');
  say('stack is down');
}

export function status(config: StackConfig): string[] {
  const paths = stackPaths();
  const line = (name: string, pid: number | undefined, where: string) =>
    `${name.padEnd(16)} ${pid === undefined ? 'stopped'.padEnd(12) : `pid ${pid}`.padEnd(12)} ${restartsOf(name, pid).padEnd(12)} ${where}`;
  // Restarts by the supervisor (supervise.ts) since `crm up` started it.
  const restartsOf = (name: string, pid: number | undefined) => {
    const supervision = pid === undefined ? undefined : readSupervision(paths.run, name);
    return supervision !== undefined && supervision.supervisor === pid ? `restarts ${supervision.restarts}` : '';
  };
  const lines = [
    `CRM_HOME ${paths.home}`,
    `ClickHouse password: ${passwordSource(config)}`,
    line('kafka', usesLocalKafka(config) ? runningPid(paths.kafka) : undefined, config.KAFKA_BROKERS),
    line('clickhouse-host', livePid(paths.run, 'clickhouse-host'), config.CLICKHOUSE_URL),
  ];
  for (const name of SERVICES) {
    const pid = livePid(paths.run, name);
    if (name === 'web') {
      const busy = pid === undefined ? undefined : webPortBusy();
      lines.push(line(name, pid, pid === undefined ? '' : (busy ?? dashboardUrl(config) ?? '')));
      continue;
    }
    const port = pid === undefined ? undefined : portFromLog(`${paths.logs}/${name}.log`, 'healthPort');
    lines.push(line(name, pid, port === undefined ? '' : `http://127.0.0.1:${port}/metrics`));
  }
  return lines;
}

/** The dashboard's URL, as the running web service logged it, with `?token=` when a token is set (as Jupyter prints it); undefined before it listens. */
export function dashboardUrl(config: StackConfig, env: Env = process.env): string | undefined {
  const web = webLogState(`${stackPaths(env).logs}/web.log`);
  if (web?.port === undefined) return undefined;
  const port = web.port;
  const host = ['0.0.0.0', '::'].includes(config.CRM_WEB_HOST) ? '127.0.0.1' : config.CRM_WEB_HOST;
  const token = config.CRM_WEB_TOKEN === undefined ? '' : `?token=${encodeURIComponent(config.CRM_WEB_TOKEN)}`;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/${token}`;
}

/** Where the password comes from, never the password itself. */
function passwordSource(config: StackConfig): string {
  if (process.env.CLICKHOUSE_PASSWORD !== undefined) return process.env.CLICKHOUSE_PASSWORD === '' ? 'none (CLICKHOUSE_PASSWORD is empty)' : 'from CLICKHOUSE_PASSWORD';
  if (usesLocalClickHouse(config) && config.CLICKHOUSE_PASSWORD !== '') return `in ${passwordFile()} (user ${config.CLICKHOUSE_USER})`;
  return 'none';
}

/** 'waiting: …' while the web service waits for its port (another program holds it); undefined otherwise. */
function webPortBusy(env: Env = process.env): string | undefined {
  const web = webLogState(`${stackPaths(env).logs}/web.log`);
  return web?.busy === undefined ? undefined : `waiting: ${web.busy}`;
}

/** The web service's newest word on its port: listening on one, or waiting for a taken one (PORT_IN_USE). */
function webLogState(file: string): { port?: number; busy?: string } | undefined {
  if (!existsSync(file)) return undefined;
  for (const text of readFileSync(file, 'utf8').trim().split('\n').reverse()) {
    const port = /"webPort":(\d+)/.exec(text);
    if (port) return { port: Number(port[1]) };
    if (text.includes('"PORT_IN_USE"')) {
      try {
        return { busy: String((JSON.parse(text) as { err: { message: string } }).err.message) };
      } catch {
        return { busy: 'the dashboard port (CRM_WEB_PORT) is in use by another program' };
      }
    }
  }
  return undefined;
}

function portFromLog(file: string, field: 'healthPort'): number | undefined {
  if (!existsSync(file)) return undefined;
  const lines = readFileSync(file, 'utf8').trim().split('\n').reverse();
  for (const text of lines) {
    const match = new RegExp(`"${field}":(\\d+)`).exec(text);
    if (match) return Number(match[1]);
  }
  return undefined;
}

async function waitForClickHouse(config: StackConfig, log: string, timeoutMs = 120_000): Promise<void> {
  // Its log is off: refused connections are expected while the host starts; the loop below reports real failures.
  const client = createClickHouse(config, { database: false });
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      const ping = await client.ping();
      if (ping.success) return;
      if (livePid(stackPaths().run, 'clickhouse-host') === undefined) {
        const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-15).join('\n') : '';
        throw new CrmError('CLICKHOUSE_UNAVAILABLE', `the ClickHouse host exited during start-up; see ${log}:\n${tail}`);
      }
      await sleep(250);
    }
    throw new CrmError('TIMEOUT', `ClickHouse at ${config.CLICKHOUSE_URL} did not answer within ${timeoutMs} ms`);
  } finally {
    await client.close();
  }
}
