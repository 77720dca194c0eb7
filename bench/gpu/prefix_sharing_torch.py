"""Prefix sharing for GRPO groups on a GPU, measured in PyTorch + transformers.

The service scores a group of G programs that answer one question with a Qwen3 sequence classifier
(reward read at each row's last non-pad token). Its CPU path (scripts/past_graph.py, an ONNX graph)
computes the question's keys and values once and scores every program against them. ONNX Runtime has
no CUDA build on the GPU machine, so this script measures the same idea with the transformers model:

    full    one forward over the G rows prefix + suffix, right-padded, attention_mask
    shared  the prefix alone (batch 1, use_cache) and then the G suffixes with the prefix's keys and
            values as past_key_values, positions continuing at P, attention_mask over prefix + suffix

It reports (1) how equal the scores stay, max |full - shared| per dtype, judged against the rounding
budget of half precision itself, max |full_half - full_fp32|; and (2) CUDA-event times of both paths.
Weights are random (Qwen3-1.7B shape); no hub access is needed. `--tiny` runs a 2-layer model on CPU
as a smoke test of the past and position handling (fp32 differences there must be ~1e-6).

    python3 bench/gpu/prefix_sharing_torch.py            # GPU, Qwen3-1.7B shape
    python3 bench/gpu/prefix_sharing_torch.py --tiny     # CPU smoke test
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import random
import statistics
import time
from pathlib import Path

import torch
import transformers
from transformers import DynamicCache, Qwen3Config, Qwen3ForSequenceClassification

PAD_ID = 151643
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}


def make_config(tiny: bool) -> Qwen3Config:
    shape = dict(
        hidden_size=2048, num_hidden_layers=28, num_attention_heads=16, num_key_value_heads=8, head_dim=128,
        intermediate_size=6144,
    )
    if tiny:
        shape = dict(
            hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
            intermediate_size=128,
        )
    return Qwen3Config(
        vocab_size=151936, max_position_embeddings=40960, rope_theta=1000000.0, rms_norm_eps=1e-6,
        tie_word_embeddings=False, num_labels=1, pad_token_id=PAD_ID, **shape,
    )


def seed_everything(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)


def make_group(rng: random.Random, group: int, prefix_len: int, suffix_range: tuple[int, int]):
    """One question (prefix ids) and `group` programs (suffix ids) of random lengths; ids avoid the pad id
    so the classifier's last-non-pad read lands on each row's last real token."""
    prefix = [rng.randrange(0, PAD_ID) for _ in range(prefix_len)]
    suffixes = [[rng.randrange(0, PAD_ID) for _ in range(rng.randint(*suffix_range))] for _ in range(group)]
    return prefix, suffixes


def right_padded(rows: list[list[int]], device) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), PAD_ID, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
        mask[i, : len(r)] = 1
    return ids.to(device), mask.to(device)


class Batch:
    """Tensors for several groups that share one prefix length P (each group has its own prefix)."""

    def __init__(self, groups, device):
        self.prefix_len = len(groups[0][0])
        self.group = len(groups[0][1])
        full_rows = [prefix + s for prefix, suffixes in groups for s in suffixes]
        self.full_ids, self.full_mask = right_padded(full_rows, device)
        self.prefix_ids = torch.tensor([prefix for prefix, _ in groups], dtype=torch.long, device=device)
        self.suffix_ids, suffix_mask = right_padded([s for _, suffixes in groups for s in suffixes], device)
        rows, width = self.suffix_ids.shape
        # The suffix pass's mask covers the past (all real: prefixes are never padded) and then the suffix.
        self.shared_mask = torch.cat(
            [torch.ones((rows, self.prefix_len), dtype=torch.long, device=device), suffix_mask], dim=1
        )
        self.suffix_positions = (self.prefix_len + torch.arange(width, device=device))[None, :].expand(rows, -1)
        self.real_tokens = int(self.full_mask.sum())
        self.full_tokens = self.full_ids.numel()  # padded tokens the full forward computes
        self.shared_tokens = self.prefix_ids.numel() + self.suffix_ids.numel()


@torch.no_grad()
def score_full(model, batch: Batch) -> torch.Tensor:
    out = model(input_ids=batch.full_ids, attention_mask=batch.full_mask, use_cache=False)
    return out.logits[:, 0]


@torch.no_grad()
def score_shared(model, batch: Batch) -> torch.Tensor:
    prefix = model.model(input_ids=batch.prefix_ids, use_cache=True).past_key_values
    # Each group's prefix (batch dim = number of groups) is broadcast to its G rows. For one group the batch
    # dim is 1 and .expand is a view; for several, repeat_interleave makes the rows. Either way
    # DynamicLayer.update stores torch.cat([empty, keys]), so the cache holds a materialized per-row copy
    # [rows, kv_heads, P, head_dim] (and each layer of the suffix pass cats the suffix's keys onto it again):
    # transformers' cache copies the past per row, unlike past_graph.py's MatMul broadcast. The copy is
    # memory traffic, not FLOPs; the FLOPs saved are the prefix's projections/MLP for G - 1 rows.
    per_layer = []
    for layer in prefix.layers:
        k, v = layer.keys, layer.values
        if k.shape[0] == 1:
            k, v = k.expand(batch.group, -1, -1, -1), v.expand(batch.group, -1, -1, -1)
        else:
            k, v = k.repeat_interleave(batch.group, dim=0), v.repeat_interleave(batch.group, dim=0)
        per_layer.append((k, v))
    cache = DynamicCache(per_layer)
    out = model(
        input_ids=batch.suffix_ids, attention_mask=batch.shared_mask, position_ids=batch.suffix_positions,
        past_key_values=cache, use_cache=True,
    )
    return out.logits[:, 0]


def time_ms(fn, warmup: int, reps: int, cuda: bool) -> list[float]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        if cuda:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize()
            times.append(start.elapsed_time(end))
        else:
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tiny", action="store_true", help="2-layer small model, short rows: CPU smoke test")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--budget-s", type=float, default=300.0, help="skip the many-groups case past this time")
    args = parser.parse_args()
    started = time.perf_counter()

    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    # fp32 is the equality reference: no TF32 in it.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    seed_everything(args.seed)

    if args.tiny:
        shapes = [(8, 60), (16, 150)]
        suffix_range = (17, 23)
        many = (4, 8, 60)
    else:
        shapes = [(8, 600), (16, 600), (8, 1500), (16, 1500)]
        suffix_range = (170, 230)
        many = (16, 8, 600)  # 16 groups of 8 in one batch
    timed_dtypes = ["bf16", "fp16"]

    out_dir = Path(os.environ["OUT"]) if os.environ.get("OUT") else Path(__file__).resolve().parents[1] / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    out_path = out_dir / "prefix_gpu.json"

    config = make_config(args.tiny)
    with torch.device(device):
        reference = Qwen3ForSequenceClassification(config).eval()
    attn = reference.config._attn_implementation
    models = {"fp32": reference}
    for name in timed_dtypes:
        models[name] = copy.deepcopy(reference).to(DTYPES[name]).eval()

    env = {
        "device": torch.cuda.get_device_name(0) if cuda else platform.processor() or "cpu",
        "torch": torch.__version__, "transformers": transformers.__version__, "cuda": torch.version.cuda,
        "attn_implementation": attn, "tiny": args.tiny, "seed": args.seed, "reps": args.reps,
        "warmup": args.warmup, "params": sum(p.numel() for p in reference.parameters()),
        "layers": config.num_hidden_layers, "hidden": config.hidden_size, "allow_tf32": False,
    }
    print(f"# device {env['device']}  torch {env['torch']}  transformers {env['transformers']}  cuda {env['cuda']}"
          f"  attn {attn}  params {env['params'] / 1e9:.3f}B", flush=True)
    results = {"env": env, "equality": [], "timing": []}

    def save() -> None:
        out_path.write_text(json.dumps(results, indent=2) + "\n")

    rng = random.Random(args.seed)
    batches = {(g, p): Batch([make_group(rng, g, p, suffix_range)], device) for g, p in shapes}

    # Equality: full vs shared per dtype; the half-precision rounding budget is full_half vs full_fp32.
    print("\n## equality (max abs over rows of the score at the last real token)", flush=True)
    print(f"{'G':>3} {'P':>5} {'score std fp32':>14} {'fp32 full-shared':>16} {'bf16 full-shared':>16}"
          f" {'bf16-fp32 (full)':>16} {'fp16 full-shared':>16} {'fp16-fp32 (full)':>16}")
    for (g, p), batch in batches.items():
        full32 = score_full(models["fp32"], batch).float()
        row = {"group": g, "prefix": p, "score_std_fp32": float(full32.std()),
               "score_absmax_fp32": float(full32.abs().max())}
        for name in ["fp32", *timed_dtypes]:
            full = score_full(models[name], batch).float()
            shared = score_shared(models[name], batch).float()
            row[f"{name}_full_vs_shared"] = float((full - shared).abs().max())
            if name != "fp32":
                row[f"{name}_full_vs_fp32_full"] = float((full - full32).abs().max())
                row[f"{name}_shared_vs_fp32_full"] = float((shared - full32).abs().max())
        results["equality"].append(row)
        print(f"{g:>3} {p:>5} {row['score_std_fp32']:>14.4g} {row['fp32_full_vs_shared']:>16.3g}"
              f" {row['bf16_full_vs_shared']:>16.3g} {row['bf16_full_vs_fp32_full']:>16.3g}"
              f" {row['fp16_full_vs_shared']:>16.3g} {row['fp16_full_vs_fp32_full']:>16.3g}", flush=True)
        save()

    # Speed: the full forward of the group vs the prefix pass + building the cache + the suffix pass.
    cases = [((g, p), batch, f"1x{g}") for (g, p), batch in batches.items()]
    print("\n## speed (median ms of %d after %d warm-up; tokens = padded tokens computed)" % (args.reps, args.warmup),
          flush=True)
    print(f"{'dtype':>5} {'groups':>7} {'P':>5} {'full ms':>9} {'shared ms':>9} {'full/shared':>11}"
          f" {'full tok':>9} {'shared tok':>10} {'tok ratio':>9}")

    def run_case(name: str, label: str, batch: Batch) -> None:
        model = models[name]
        full = time_ms(lambda: score_full(model, batch), args.warmup, args.reps, cuda)
        shared = time_ms(lambda: score_shared(model, batch), args.warmup, args.reps, cuda)
        full_ms, shared_ms = statistics.median(full), statistics.median(shared)
        row = {"dtype": name, "groups": label, "group": batch.group, "prefix": batch.prefix_len,
               "full_ms_median": full_ms, "shared_ms_median": shared_ms, "full_ms": full, "shared_ms": shared,
               "speedup": full_ms / shared_ms, "full_tokens": batch.full_tokens, "shared_tokens": batch.shared_tokens,
               "real_tokens": batch.real_tokens, "token_ratio": batch.full_tokens / batch.shared_tokens}
        if cuda:
            row["peak_gib"] = torch.cuda.max_memory_allocated() / 2**30
        results["timing"].append(row)
        print(f"{name:>5} {label:>7} {batch.prefix_len:>5} {full_ms:>9.2f} {shared_ms:>9.2f} {row['speedup']:>11.2f}"
              f" {batch.full_tokens:>9} {batch.shared_tokens:>10} {row['token_ratio']:>9.2f}", flush=True)
        save()

    for name in timed_dtypes:
        for (_, batch, label) in cases:
            run_case(name, label, batch)

    n_groups, g, p = many
    elapsed = time.perf_counter() - started
    if elapsed > args.budget_s:
        print(f"# skipped {n_groups}x{g} P={p}: {elapsed:.0f}s elapsed > --budget-s {args.budget_s:.0f}", flush=True)
        results["skipped"] = f"{n_groups}x{g} P={p}"
    else:
        many_batch = Batch([make_group(rng, g, p, suffix_range) for _ in range(n_groups)], device)
        for name in timed_dtypes:
            full = score_full(models[name], many_batch).float()
            shared = score_shared(models[name], many_batch).float()
            results["equality"].append({"group": g, "groups": n_groups, "prefix": p,
                                        f"{name}_full_vs_shared": float((full - shared).abs().max())})
            run_case(name, f"{n_groups}x{g}", many_batch)
        many_eq = [r for r in results["equality"] if r.get("groups") == n_groups]
        print("# %dx%d P=%d max |full - shared|: %s" % (
            n_groups, g, p, ", ".join(f"{k.split('_')[0]} {v:.3g}" for r in many_eq for k, v in r.items()
                                     if k.endswith("full_vs_shared"))), flush=True)

    results["elapsed_s"] = time.perf_counter() - started
    save()
    print(f"\n# wrote {out_path}  ({results['elapsed_s']:.0f}s)", flush=True)


if __name__ == "__main__":
    main()
