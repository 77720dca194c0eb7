"""The past form of the export, model-past.onnx: the same classifier for a batch of suffixes that all
continue one shared prefix whose keys and values are given.

    inputs   input_ids, attention_mask         int64 [batch, seq], right-padded suffixes
             past_key.{i}, past_value.{i}       [1, kv_heads, past_len, head_dim] per layer: the prefix's
                                                keys (after rotary) and values; past_len may be 0
    outputs  logits                             float32 [batch, 1], read at each row's last non-pad token
             present_key.{i}, present_value.{i} [batch, kv_heads, seq, head_dim]: this call's own

Suffix token j sits at position past_len + j; it attends to the whole past and causally to the real
tokens of its own row. A prefix pass (batch 1, the prefix's ids, past_len 0) returns the prefix's keys
and values as present_*, to be fed back as past_* for its suffixes.

The past's batch dim is 1 and it is never copied per row: the layer restated here scores it with
matmul(q [b, kv, groups, s, d], past_kᵀ [1, kv, 1, d, past_len]), which the exporter writes as one
ONNX MatMul whose numpy broadcasting reads the one past for every row and every query head of a
group. Those scores are concatenated before the row's own masked scores, one softmax (in fp32, as
Hugging Face's eager attention) runs over both, and the probabilities are split again to weight the
past's values (broadcast the same way) and the row's own. Everything else is the checkpoint's own
modules: embeddings, RMSNorms (ONNX Runtime's SimplifiedLayerNormalization when fused_attention has
swapped them), projections, q_norm/k_norm, rotary tables (rope scaling included), MLP; the final norm
and score run in fp32 on the read row, as in model.onnx.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

PAST_MODEL_FILE = "model-past.onnx"


def past_key_name(layer: int) -> str:
    return f"past_key.{layer}"


def past_value_name(layer: int) -> str:
    return f"past_value.{layer}"


def present_key_name(layer: int) -> str:
    return f"present_key.{layer}"


def present_value_name(layer: int) -> str:
    return f"present_value.{layer}"


def io_names(num_layers: int) -> tuple[list[str], list[str]]:
    """(input names, output names) in the graph's order."""
    inputs = ["input_ids", "attention_mask"]
    outputs = ["logits"]
    for i in range(num_layers):
        inputs += [past_key_name(i), past_value_name(i)]
        outputs += [present_key_name(i), present_value_name(i)]
    return inputs, outputs


def dynamic_axes(num_layers: int) -> dict:
    axes = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"}, "logits": {0: "batch"}}
    for i in range(num_layers):
        axes[past_key_name(i)] = axes[past_value_name(i)] = {2: "past_len"}
        axes[present_key_name(i)] = axes[present_value_name(i)] = {0: "batch", 2: "seq"}
    return axes


def past_reward(torch, model, head):
    """The module traced into model-past.onnx. `head` maps (hidden [b, s, h], input_ids) to the logits
    (export_onnx.ScoreHead: the read-out at the last non-pad token, final norm and score in fp32)."""
    backbone = getattr(model, model.base_model_prefix)
    layers = list(backbone.layers)
    rotary = backbone.rotary_emb
    config = model.config
    heads, kv_heads = config.num_attention_heads, config.num_key_value_heads
    groups = heads // kv_heads
    dtype = model.dtype
    mask_value = torch.finfo(dtype).min

    def rotate(t, cos, sin):
        half = t.shape[-1] // 2
        return t * cos + torch.cat([-t[..., half:], t[..., :half]], dim=-1) * sin

    class PastReward(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = backbone
            self.head = head

        def forward(self, input_ids, attention_mask, *past):
            b, s = input_ids.shape
            past_len = past[0].shape[2]
            positions = torch.arange(s, device=input_ids.device)
            hidden = backbone.embed_tokens(input_ids)
            cos, sin = rotary(hidden, (positions + past_len)[None, :])  # [1, s, d], rope scaling applied
            cos, sin = cos[:, None], sin[:, None]
            # This call's own keys: causal within the call and not padding, [b, 1, 1, s(q), s(k)].
            causal = positions[None, :] <= positions[:, None]
            allowed = causal[None, None, None] & attention_mask.bool()[:, None, None, None, :]
            zero = torch.zeros((), dtype=dtype, device=input_ids.device)
            own_bias = torch.where(allowed, zero, torch.full((), mask_value, dtype=dtype, device=input_ids.device))
            presents = []
            for i, layer in enumerate(layers):
                attn = layer.self_attn
                d = attn.head_dim
                h = layer.input_layernorm(hidden)
                q = attn.q_proj(h).view(b, s, heads, d)
                k = attn.k_proj(h).view(b, s, kv_heads, d)
                if getattr(attn, "q_norm", None) is not None:
                    q, k = attn.q_norm(q), attn.k_norm(k)
                q = rotate(q.transpose(1, 2), cos, sin)  # [b, heads, s, d]
                k = rotate(k.transpose(1, 2), cos, sin)  # [b, kv, s, d]
                v = attn.v_proj(h).view(b, s, kv_heads, d).transpose(1, 2)
                q_grouped = q.reshape(b, kv_heads, groups, s, d)
                past_k = past[2 * i][:, :, None]  # [1, kv, 1, past_len, d]
                past_v = past[2 * i + 1][:, :, None]
                past_scores = torch.matmul(q_grouped, past_k.transpose(3, 4)) * attn.scaling
                own_scores = torch.matmul(q_grouped, k[:, :, None].transpose(3, 4)) * attn.scaling + own_bias
                probs = torch.softmax(torch.cat([past_scores, own_scores], dim=-1).float(), dim=-1).to(q.dtype)
                context = torch.matmul(probs[..., :past_len], past_v) + torch.matmul(probs[..., past_len:], v[:, :, None])
                context = context.reshape(b, heads, s, d).transpose(1, 2).reshape(b, s, heads * d)
                hidden = hidden + attn.o_proj(context)
                hidden = hidden + layer.mlp(layer.post_attention_layernorm(hidden))
                presents += [k, v]
            return (self.head(hidden, input_ids), *presents)

    return PastReward().eval()


def trace(torch, module, example, path, opset: int, num_layers: int) -> None:
    """TorchScript-exports the past module; `example` is (input_ids, attention_mask, *past)."""
    inputs, outputs = io_names(num_layers)
    with torch.no_grad():
        torch.onnx.export(
            module, example, str(path), input_names=inputs, output_names=outputs, dynamic_axes=dynamic_axes(num_layers),
            opset_version=opset, do_constant_folding=True, dynamo=False,
            export_params=False,  # the weights stay inputs named by state_dict key; export_onnx.save_onnx writes them
            keep_initializers_as_inputs=True,  # no pass comparing weights by value: they are placeholders
        )


def copies_of_past(onnx_graph) -> list[str]:
    """Nodes that could copy a past tensor per row: any Expand or Tile fed, through shape-only
    operators, by a past input. The contract wants none (the past is broadcast by MatMul)."""
    consumers: dict[str, list] = {}
    for node in onnx_graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    passthrough = {"Transpose", "Unsqueeze", "Reshape", "Squeeze", "Cast", "Identity"}
    found = []
    frontier = [i.name for i in onnx_graph.input if i.name.startswith("past_")]
    while frontier:
        name = frontier.pop()
        for node in consumers.get(name, []):
            if node.op_type in ("Expand", "Tile"):
                found.append(f"{node.op_type} {node.name} on {name}")
            elif node.op_type in passthrough:
                frontier.extend(node.output)
    return found


def common_prefix_length(rows: list[list[int]]) -> int:
    n = 0
    while all(len(r) > n for r in rows) and len({r[n] for r in rows}) == 1:
        n += 1
    return n


@dataclass(frozen=True)
class PastShape:
    """The per-layer key/value shape [1, kv_heads, past_len, head_dim] of a checkpoint."""
    layers: int
    kv_heads: int
    head_dim: int

    @classmethod
    def of(cls, model) -> "PastShape":
        layers = getattr(model, model.base_model_prefix).layers
        return cls(len(layers), model.config.num_key_value_heads, layers[0].self_attn.head_dim)

    def empty_torch(self, torch, dtype, device) -> list:
        return [torch.zeros(1, self.kv_heads, 0, self.head_dim, dtype=dtype, device=device) for _ in range(2 * self.layers)]

    def random_torch(self, torch, dtype, device, length: int) -> list:
        return [torch.randn(1, self.kv_heads, length, self.head_dim, device=device).to(dtype) for _ in range(2 * self.layers)]

    def empty_numpy(self, np, dtype_name: str) -> list:
        # numpy has no bfloat16; ml_dtypes (an onnx dependency) adds it.
        dtype = __import__("ml_dtypes").bfloat16 if dtype_name == "bfloat16" else np.dtype(dtype_name)
        return [np.zeros((1, self.kv_heads, 0, self.head_dim), dtype=dtype) for _ in range(2 * self.layers)]


def hf_past_run(torch, model, prefix: list[int], ids: list[list[int]], mask: list[list[int]]) -> dict:
    """Hugging Face's own forward with past_key_values: a DynamicCache filled by a forward of the prefix
    (one cache row per suffix row, as transformers keeps them), then the suffixes, the attention mask
    covering prefix + suffix. Returns the suffixes' logits, the prefix's own logit, and the cache's keys
    and values of row 0 per layer ([kv_heads, past_len, head_dim], fp32 numpy)."""
    device = next(model.parameters()).device
    with torch.no_grad():
        prefix_ids = torch.tensor([prefix] * len(ids), device=device)
        prefix_out = model(input_ids=prefix_ids, attention_mask=torch.ones_like(prefix_ids), use_cache=True)
        cache = prefix_out.past_key_values
        keys, values = zip(*[(k[0].float().cpu().numpy(), v[0].float().cpu().numpy()) for k, v in cache_layers(cache)])
        full_mask = torch.cat([torch.ones_like(prefix_ids), torch.tensor(mask, device=device)], dim=1)
        out = model(input_ids=torch.tensor(ids, device=device), attention_mask=full_mask, past_key_values=cache, use_cache=True)
    return {"logits": out.logits[:, 0].float().cpu().tolist(), "prefix_logit": float(prefix_out.logits[0, 0]),
            "keys": list(keys), "values": list(values)}


def cache_layers(cache):
    """(keys, values) per layer of a DynamicCache, in transformers 4.5x (key_cache lists) and 5.x (layers)."""
    if hasattr(cache, "layers"):
        return [(layer.keys, layer.values) for layer in cache.layers]
    return list(zip(cache.key_cache, cache.value_cache))


def torch_runner(torch, module, device):
    """run(ids, mask, past) → (logits, present as fed back, present as fp32 numpy) for the torch module."""
    def run(ids, mask, past):
        with torch.no_grad():
            logits, *present = module(torch.tensor(ids, device=device), torch.tensor(mask, device=device), *past)
        return logits[:, 0].float().cpu().tolist(), present, [p.float().cpu().numpy() for p in present]
    return run


def onnx_runner(np, session, layers: int):
    """run(ids, mask, past) → (logits, present as fed back, present as fp32 numpy) for an ONNX Runtime session."""
    def run(ids, mask, past):
        feeds = {"input_ids": np.asarray(ids, dtype=np.int64), "attention_mask": np.asarray(mask, dtype=np.int64)}
        for i in range(layers):
            feeds[past_key_name(i)], feeds[past_value_name(i)] = past[2 * i], past[2 * i + 1]
        logits, *present = session.run(None, feeds)
        return logits[:, 0].astype(float).tolist(), present, [p.astype(np.float32) for p in present]
    return run


def group_diffs(run, empty_past, prefix: list[int], ids: list[list[int]], mask: list[list[int]], want: dict) -> dict:
    """One group the way the service runs it: the prefix pass (batch 1, past_len 0), then the padded
    suffixes against its present keys/values. Largest |diff| against hf_past_run's `want` of the
    suffixes' logits, the prefix pass's logit, and its present keys/values against the cache's."""
    prefix_logits, present, present_fp32 = run([prefix], [[1] * len(prefix)], empty_past)
    logits, _, _ = run(ids, mask, present)
    cached = [t for pair in zip(want["keys"], want["values"]) for t in pair]
    return {
        "logits": largest(abs(a - b) for a, b in zip(logits, want["logits"])),
        "prefix_logit": largest([abs(prefix_logits[0] - want["prefix_logit"])]),
        "present": largest(float(abs(got[0] - expected).max()) for got, expected in zip(present_fp32, cached)),
    }


def largest(diffs) -> float:
    """The largest |difference|, infinite when any is not finite (a NaN must fail a check, not pass it)."""
    diffs = list(diffs)
    return max(diffs) if all(math.isfinite(d) for d in diffs) else math.inf
