// Reading ONNX Runtime's verbose "Node placements" log lines (session_state.cc), for bench/gpu/smoke.ts.

/** ONNX Runtime's "Node placements" verbose lines: nodes per provider, and the op types placed on each. */
export function parsePlacement(log: string): Map<string, { nodes: number; ops: Map<string, number> }> {
  const placed = new Map<string, { nodes: number; ops: Map<string, number> }>();
  let current: { nodes: number; ops: Map<string, number> } | undefined;
  for (const line of log.split('\n')) {
    const m = /VerifyEachNodeIsAssignedToAnEp\] (.*)$/.exec(line);
    if (!m) continue;
    const header = /placed on \[(\w+)\]\. Number of nodes: (\d+)/.exec(m[1]);
    if (header) {
      current = placed.get(header[1]) ?? { nodes: 0, ops: new Map() };
      current.nodes += Number(header[2]);
      placed.set(header[1], current);
      continue;
    }
    const node = /^\s{2,}(\S+) \(/.exec(m[1]);
    if (node && current) current.ops.set(node[1], (current.ops.get(node[1]) ?? 0) + 1);
  }
  return placed;
}
