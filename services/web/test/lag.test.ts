import { expect, it } from 'vitest';
import { lagByTopic } from '../src/lag.js';

it('sums what the group has not committed over the partitions, and says null where it never committed on a non-empty topic', () => {
  const ends = [{ partition: 0, high: '10' }, { partition: 1, high: '5' }];
  expect(lagByTopic('t', ends, [{ partition: 0, offset: '7' }, { partition: 1, offset: '5' }])).toEqual({ topic: 't', partitions: 2, lag: 3 });
  // A partition without a commit counts whole once another has one.
  expect(lagByTopic('t', ends, [{ partition: 0, offset: '10' }, { partition: 1, offset: '-1' }]).lag).toBe(5);
  expect(lagByTopic('t', ends, [{ partition: 0, offset: '-1' }, { partition: 1, offset: '-1' }]).lag).toBeNull();
  expect(lagByTopic('t', [{ partition: 0, high: '0' }], []).lag).toBe(0);
});
