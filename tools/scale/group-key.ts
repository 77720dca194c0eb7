// The x-reward-group header every client of the project sends (clients/python's group_key): the
// first 16 hex digits of SHA-256 of the question's UTF-8 text. Routers hash it to keep a GRPO
// group's samples on one replica; the service ignores it.
import { createHash } from 'node:crypto';

export const GROUP_HEADER = 'x-reward-group';

export function groupKey(question: string): string {
  return createHash('sha256').update(question, 'utf8').digest('hex').slice(0, 16);
}
