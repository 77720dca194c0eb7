#!/usr/bin/env python3
"""What fp32 matrix products this machine gives, for bench:fullsize's speed figures.

    python bench/gemm_ceiling.py CONFIG_JSON --rows 1024 --threads 2

A batch of the reward model is, by its arithmetic, the products of its projections: every token
goes through each layer's q, k, v, o and the MLP's gate, up and down. This times those products
alone, [rows, in] x [in, out] at each of the model's (in, out) shapes, with torch and with ONNX
Runtime's CPU MatMul (weights prepacked and not), and prints one JSON object:

    {"flops_per_token": ..., "shapes": [{"in", "out", "share", "torch", "ort_prepacked", "ort_unpacked"}],
     "ceiling_gflops": ...}

`share` is the shape's part of a token's multiply-adds; each engine's figure is GFLOP/s, the best of
`--repeats` timed runs after a warm-up. `ceiling_gflops` is, per shape, the fastest engine, combined
by share (the rate at which all of a token's products would run if each ran at its best). Attention's
own products (query x key, weights x value) are left out: at the bench's lengths they are under 2% of
a token's arithmetic. Imports torch, onnx and onnxruntime (the parity venv).
"""
from __future__ import annotations

import argparse
import json
import time


def layer_shapes(config: dict) -> list[tuple[int, int, int]]:
    """(in, out, count per layer) of each projection of a Qwen3 or Llama decoder layer."""
    hidden, inter = config["hidden_size"], config["intermediate_size"]
    heads, kv_heads = config["num_attention_heads"], config.get("num_key_value_heads", config["num_attention_heads"])
    head_dim = config.get("head_dim") or hidden // heads
    return [(hidden, heads * head_dim, 1), (hidden, kv_heads * head_dim, 2), (heads * head_dim, hidden, 1), (hidden, inter, 2), (inter, hidden, 1)]


def best_rate(run, flops: float, repeats: int) -> float:
    run()
    best = min(timed(run) for _ in range(repeats))
    return flops / best / 1e9


def timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("config", help="the checkpoint's config.json")
    parser.add_argument("--rows", type=int, default=1024, help="tokens in a batch (MAX_BATCH_TOKENS)")
    parser.add_argument("--threads", type=int, default=0, help="intra-op threads; 0: each engine's default")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    import numpy as np
    import onnxruntime as ort
    import torch
    from onnx import TensorProto, helper

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    with open(args.config, encoding="utf-8") as f:
        config = json.load(f)
    shapes = layer_shapes(config)
    macs_per_token = sum(k * n * count for k, n, count in shapes) * config["num_hidden_layers"]
    rows = args.rows
    out = []
    for k, n, count in shapes:
        a = torch.randn(rows, k)
        b = torch.randn(k, n)
        flops = 2.0 * rows * k * n
        figures = {"in": k, "out": n, "share": k * n * count * config["num_hidden_layers"] / macs_per_token,
                   "torch": best_rate(lambda: a @ b, flops, args.repeats)}
        graph = helper.make_graph([helper.make_node("MatMul", ["a", "b"], ["c"])], "product",
                                  [helper.make_tensor_value_info("a", TensorProto.FLOAT, [rows, k])],
                                  [helper.make_tensor_value_info("c", TensorProto.FLOAT, [rows, n])],
                                  [helper.make_tensor("b", TensorProto.FLOAT, [k, n], b.numpy().ravel())])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9).SerializeToString()
        for name, prepack in (("ort_prepacked", True), ("ort_unpacked", False)):
            options = ort.SessionOptions()
            options.intra_op_num_threads = args.threads
            if not prepack:
                options.add_session_config_entry("session.disable_prepacking", "1")
            session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
            feed = {"a": np.ascontiguousarray(a.numpy())}
            figures[name] = best_rate(lambda: session.run(None, feed), flops, args.repeats)
        out.append(figures)
    # Time per token is the sum over shapes of share / rate: the harmonic combination.
    ceiling = 1.0 / sum(s["share"] / max(s["torch"], s["ort_prepacked"], s["ort_unpacked"]) for s in out)
    print(json.dumps({"flops_per_token": 2.0 * macs_per_token, "rows": rows, "shapes": out, "ceiling_gflops": ceiling}))


if __name__ == "__main__":
    main()
