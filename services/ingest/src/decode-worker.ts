// A decoding worker thread (decode-workers): batches in, encoded rows and rejections out.
import { parentPort } from 'node:worker_threads';
import { decodeBatch } from './decode-batch.js';
import type { PreparedMessage } from './decode-message.js';
import type { DecodeReply, DecodeTask } from './decode-workers.js';
import { STREAMS } from './streams.js';
import { EMPTY_SUPPRESSION, type SuppressionList } from './suppression-list.js';

const port = parentPort!;
const streams = new Map(STREAMS.map((s) => [s.schema, s]));
let suppression: SuppressionList = EMPTY_SUPPRESSION;

const reply = (message: DecodeReply) => port.postMessage(message);

port.on('message', (task: DecodeTask) => {
  if (task.suppression) suppression = task.suppression;
  try {
    reply({ id: task.id, decoded: decodeBatch(streams.get(task.schema)!, task.partition, unpack(task), { ...task.ctx, suppression }) });
  } catch (error) {
    reply({ id: task.id, error: error instanceof Error ? error.message : String(error) });
  }
});
reply({ ready: true });

function unpack(task: DecodeTask): PreparedMessage[] {
  const bytes = Buffer.from(task.values);
  let start = 0;
  return task.offsets.map((offset, i) => {
    const end = task.ends[i]!;
    const value = end < 0 ? null : bytes.subarray(start, end);
    if (end >= 0) start = end;
    return { value, contentType: task.contentTypes[i]!, size: task.sizes[i]!, offset };
  });
}
