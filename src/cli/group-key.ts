// The group key of a question: the first 16 hex digits of SHA-256 of its UTF-8 text. Clients send it
// as the x-reward-group header (clients/python's group_key) so that routers keep a GRPO group's
// samples on one replica (the service ignores it); `score --shard` splits a file by it, so a question's
// lines stay in one shard.
import { createHash } from 'node:crypto';

export const GROUP_HEADER = 'x-reward-group';

export function groupKey(question: string): string {
  return createHash('sha256').update(question, 'utf8').digest('hex').slice(0, 16);
}

/** The shard (0..count-1) of a question's lines. */
export function shardOf(question: string, count: number): number {
  return Number(BigInt(`0x${groupKey(question)}`) % BigInt(count));
}
