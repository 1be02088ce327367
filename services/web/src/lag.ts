import type { Admin } from 'kafkajs';

export interface TopicLag {
  topic: string;
  partitions: number;
  /** Messages on the topic the group has not committed yet; null where it has committed nothing. */
  lag: number | null;
}

/** Lag per topic from the partitions' end offsets and the group's committed ones (kafkajs: "-1" = nothing committed). */
export function lagByTopic(topic: string, ends: { partition: number; high: string }[], committed: { partition: number; offset: string }[]): TopicLag {
  const at = new Map(committed.map((c) => [c.partition, Number(c.offset)]));
  let lag = 0;
  let any = false;
  for (const end of ends) {
    const offset = at.get(end.partition) ?? -1;
    if (offset >= 0) any = true;
    lag += Math.max(0, Number(end.high) - Math.max(0, offset));
  }
  return { topic, partitions: ends.length, lag: any || ends.every((e) => Number(e.high) === 0) ? lag : null };
}

/** The group's lag on each topic, or undefined when the broker does not answer within `timeoutMs` (the page says so and carries on). */
export async function consumerLag(connect: () => Promise<Admin>, group: string, topics: string[], timeoutMs = 3000): Promise<TopicLag[] | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
  });
  const read = async () => {
    const admin = await connect();
    const committed = await admin.fetchOffsets({ groupId: group, topics });
    return Promise.all(
      topics.map(async (topic) => lagByTopic(topic, await admin.fetchTopicOffsets(topic), committed.find((c) => c.topic === topic)?.partitions ?? [])),
    );
  };
  try {
    return await Promise.race([read(), timeout]);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}
