import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '@crm/runtime';
import type { Outgoing } from './kafka.js';

export type KafkaCompression = 'gzip' | 'snappy' | 'lz4' | 'zstd';
export const KAFKA_COMPRESSIONS: readonly KafkaCompression[] = ['gzip', 'snappy', 'lz4', 'zstd'];

/** Where scripts/bootstrap.sh installs confluent-kafka (no virtualenv or system site needed). */
const PYTHON_PATH = join(REPO_ROOT, '.local/python');

/**
 * Produces with librdkafka (Confluent's client, through confluent-kafka for Python), the
 * client most platforms' producers are built on, so tests see batches exactly as they
 * send them: compressed with their codec, in their framing.
 */
export function produceWithLibrdkafka(brokers: string, topic: string, compression: KafkaCompression, messages: readonly Outgoing[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [join(REPO_ROOT, 'test/support/librdkafka_produce.py'), brokers, topic, compression], {
      env: { ...process.env, PYTHONPATH: [PYTHON_PATH, process.env.PYTHONPATH].filter(Boolean).join(':') },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`librdkafka producer (${compression}) exited with ${code}; is confluent-kafka installed (scripts/bootstrap.sh)?\n${stderr.slice(-2000)}`)),
    );
    for (const m of messages) {
      const value = typeof m.value === 'string' ? Buffer.from(m.value) : m.value;
      child.stdin.write(`${JSON.stringify({ key: m.key, value_b64: value.toString('base64'), headers: m.headers ?? { 'content-type': 'application/json' } })}\n`);
    }
    child.stdin.end();
  });
}
