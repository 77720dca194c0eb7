// bench/gpu/smoke.sh, run as npm test can: on the CPU provider and the demo model, every step but the
// GPU-only ones (CUDA libraries and nvidia-smi, GroupQueryAttention placement, GPU memory), which it
// reports as SKIP; the golden ordering is not asserted on random weights. The placement parser is
// held to ONNX Runtime's log format, including the mixed placement a GPU run can show.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parsePlacement } from '../../bench/gpu/placement.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('bench/gpu/smoke.sh on the CPU provider', () => {
  it('passes every step it can run and names the GPU-only ones it skips', () => {
    const out = mkdtempSync(join(tmpdir(), 'gpu-smoke-'));
    try {
      const run = spawnSync('bash', [join(ROOT, 'bench/gpu/smoke.sh'), '--out', out], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SMOKE_PROVIDER: 'cpu', SMOKE_TIMEOUT_S: '300' } });
      assert.equal(run.status, 0, run.stdout + run.stderr);
      const lines = run.stdout.split('\n');
      const verdicts = (kind: string) => lines.filter((l) => l.startsWith(`${kind} `)).map((l) => l.slice(kind.length + 1, kind.length + 3));
      assert.deepEqual(verdicts('PASS'), ['2.', '3.', '4.', '4.']);
      assert.deepEqual(verdicts('SKIP'), ['1.', '2.', '5.', '6.']);
      assert.deepEqual(verdicts('FAIL'), []);
      assert.match(run.stdout, /CPUExecutionProvider: \d+ nodes/);
      assert.match(run.stdout, /SKIP 2\. no GroupQueryAttention on the CPU \(GPU only\)/);
      assert.match(run.stdout, /shared vs whole scores on a GRPO group of 8: max \|diff\| \S+ \(tolerance 0\.0001\)/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('parsePlacement', () => {
  const line = (text: string) => `2026-12-07 11:50:52.142683503 [V:onnxruntime:, session_state.cc:1377 VerifyEachNodeIsAssignedToAnEp] ${text}`;
  it('counts nodes per provider and the op types listed under a partial placement', () => {
    const log = [
      line('Node placements'),
      line(' Node(s) placed on [CUDAExecutionProvider]. Number of nodes: 300'),
      line(' Node(s) placed on [CPUExecutionProvider]. Number of nodes: 3'),
      line('  GroupQueryAttention (/layers.0/attn/GroupQueryAttention)'),
      line('  GroupQueryAttention (/layers.1/attn/GroupQueryAttention)'),
      line('  Shape (/Shape)'),
      '2026-12-07 11:50:52.143 [I:onnxruntime:, allocation_planner.cc:2653 CreateGraphPartitioner] Use DeviceBasedPartition as default',
      line(' All nodes placed on [CUDAExecutionProvider]. Number of nodes: 12'),
    ].join('\n');
    const placed = parsePlacement(log);
    assert.equal(placed.get('CUDAExecutionProvider')?.nodes, 312);
    assert.equal(placed.get('CPUExecutionProvider')?.nodes, 3);
    assert.deepEqual([...placed.get('CPUExecutionProvider')!.ops], [['GroupQueryAttention', 2], ['Shape', 1]]);
  });
});
