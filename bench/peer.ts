/**
 * Ours against the peer (ClickHouse's Kafka engine + materialized views) on one JSON click topic,
 * alone: the third part of `pnpm bench`, for iterating on ingest. `--repeat N` alternates the two
 * N times in the same run (fresh topic each time), so the ratio compares like with like.
 *
 * `--baseline <checkout>` also runs another checkout's ingest (e.g. /work/main) on the same load in
 * each round, so a change is measured against what it replaces under the same machine state.
 *
 *   pnpm bench:peer [--events 300000] [--repeat 1] [--baseline <checkout>]
 */
import { parseArgs } from 'node:util';
import { createKafka } from '@crm/kafka';
import { createLogger } from '@crm/runtime';
import { startEphemeralStack } from './ephemeral-stack.js';
import { combinedRates, peerRound } from './peer-round.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '300000' }, repeat: { type: 'string', default: '1' }, baseline: { type: 'string' } } });
const started = Date.now();
const say = (line: string) => process.stderr.write(`[${Math.round((Date.now() - started) / 1000)} s] ${line}\n`);
const int = (n: number) => Math.round(n).toLocaleString('en-US');

const stack = await startEphemeralStack(say);
try {
  const kafka = createKafka({ KAFKA_BROKERS: stack.brokers }, { clientId: 'bench', logger: createLogger('bench', 'error') });
  const lines: string[] = [];
  const rounds = [];
  for (let i = 0; i < Number(values.repeat); i++) {
    const round = await peerRound(kafka, stack, { index: i, events: Number(values.events), ...(values.baseline && { baseline: values.baseline }), say });
    rounds.push(round);
    const { ours, baseline, peer } = round;
    const cpu = (m: { cpuUsPerMessage: { ingest: number; host?: number } }) => `CPU µs/message: ingest ${m.cpuUsPerMessage.ingest.toFixed(0)}, host ${m.cpuUsPerMessage.host?.toFixed(0)}`;
    lines.push(
      (baseline ? `run ${i + 1}: baseline ${int(baseline.messagesPerSecond)} messages/s (${baseline.seconds.toFixed(1)} s, rows ${baseline.exact ? 'exact' : 'MISMATCH'}; ${cpu(baseline)}), ${(baseline.messagesPerSecond / peer.rowsPerSecond).toFixed(2)}× the peer\n` : '') +
      `run ${i + 1}: ours ${int(ours.messagesPerSecond)} messages/s (${ours.seconds.toFixed(1)} s, rows ${ours.exact ? 'exact' : 'MISMATCH'}; ${cpu(ours)}), ` +
        `peer ${int(peer.rowsPerSecond)} rows/s (${peer.seconds.toFixed(1)} s, ${peer.rows === round.validClicks ? 'exact' : 'MISMATCH'}; host CPU µs/message ${round.peerCpuUsPerMessage.toFixed(0)}), ours / peer ${(ours.messagesPerSecond / peer.rowsPerSecond).toFixed(2)}× (${round.order})`,
    );
    say(lines.at(-1)!);
  }
  if (rounds.length > 1) lines.push(`all runs: ours / peer ${combinedRates(rounds).ratio.toFixed(2)}×`);
  process.stdout.write(`\n${lines.join('\n')}\n`);
} finally {
  await stack.stop();
}
