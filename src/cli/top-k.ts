// Best-of-N: from the scored lines, the K best per group (the same question, say), ranked by shaped
// reward, highest first; ties keep input order. Only K lines per group are held, never the file.
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

interface Scored {
  line: number;
  reward: number;
  [field: string]: unknown;
}

/** Whether a ranks before b: higher reward, then earlier input line. */
const before = (a: Scored, b: Scored) => a.reward > b.reward || (a.reward === b.reward && a.line < b.line);

/** Inserts `item` into `best` (sorted, at most k long) if it belongs there. */
export function keepBest(best: Scored[], item: Scored, k: number): void {
  if (best.length === k && !before(item, best[k - 1])) return;
  let i = best.length;
  while (i > 0 && before(item, best[i - 1])) i--;
  best.splice(i, 0, item);
  if (best.length > k) best.pop();
}

/** Writes the best `k` lines of each `groupBy` value of `scoredPath` to `output`, groups in order of first appearance, each line with its `rank`. */
export async function writeTopK(scoredPath: string, output: string, groupBy: string, k: number): Promise<{ groups: number; written: number }> {
  const groups = new Map<string, Scored[]>();
  for await (const text of createInterface({ input: createReadStream(scoredPath), crlfDelay: Infinity })) {
    if (text === '') continue;
    const item = JSON.parse(text) as Scored;
    const key = JSON.stringify(item[groupBy] ?? null);
    let best = groups.get(key);
    if (!best) groups.set(key, (best = []));
    keepBest(best, item, k);
  }
  const out = createWriteStream(output);
  let written = 0;
  for (const best of groups.values()) {
    for (const [i, item] of best.entries()) {
      if (!out.write(JSON.stringify({ rank: i + 1, ...item }) + '\n')) await once(out, 'drain');
      written++;
    }
  }
  out.end();
  await once(out, 'close');
  return { groups: groups.size, written };
}
