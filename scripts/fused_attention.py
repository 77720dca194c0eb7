"""The fused export form: attention, rotary embedding and RMSNorm as ONNX Runtime's own operators.

export_onnx.py --attention fused calls install() on the loaded classifier before tracing. It swaps,
in every decoder layer of the backbone:

- each RMSNorm's forward for SimplifiedLayerNormalization (ONNX Runtime registers it in the default
  domain; it fuses the residual add in front of it into SkipSimplifiedLayerNormalization at load);
- each attention module's forward (Qwen3 and Llama) for one com.microsoft GroupQueryAttention node,
  which applies the rotary embedding itself from cos/sin caches and never builds a [batch, heads,
  seq, seq] tensor out of separate nodes (on CUDA it runs flash or memory-efficient attention).

Each swapped forward is a torch.autograd.Function: its forward computes the same math in PyTorch
(so the export's own check of the wrapper against Hugging Face covers it), its symbolic writes the
operator into the TorchScript export.

GroupQueryAttention reads padding as per-row lengths (seqlens_k = tokens - 1) and the padded length
(total_sequence_length). The backbone is given only the key-padding row of the mask, [batch, 1, 1,
seq] (mask_for_backbone), which transformers passes to the attention layers unchanged, and the
lengths are derived from it in the graph. With right padding every real query sees only real keys
(causality), exactly the keys the unfused mask allows, so the logit read at the last real token is
the same; positions after it compute values nobody reads. GroupQueryAttention's past_key/past_value
inputs (left empty) and present outputs are where a graph with a key/value cache plugs in.

The rotary caches are Hugging Face's own cos/sin for positions 0..seq-1 (first half of head_dim),
so rope scaling and attention scaling configured in the checkpoint carry over.
"""
from __future__ import annotations

ATTENTION_FORMS = ("fused", "unfused")
DEFAULT_ATTENTION_FORM = "fused"


def _register_simplified_layer_norm_schema(onnx) -> None:
    """SimplifiedLayerNormalization is ONNX Runtime's, registered in the default domain; teach
    onnx.checker its signature so check_model accepts the exported graph."""
    from onnx import defs

    if defs.has("SimplifiedLayerNormalization"):
        return
    schema = defs.OpSchema(
        "SimplifiedLayerNormalization",
        "",
        1,
        inputs=[defs.OpSchema.FormalParameter("X", "T"), defs.OpSchema.FormalParameter("scale", "V")],
        outputs=[defs.OpSchema.FormalParameter("Y", "V")],
        type_constraints=[("T", ["tensor(float)", "tensor(float16)", "tensor(bfloat16)"], ""),
                          ("V", ["tensor(float)", "tensor(float16)", "tensor(bfloat16)"], "")],
        attributes=[defs.OpSchema.Attribute("axis", defs.OpSchema.AttrType.INT, ""),
                    defs.OpSchema.Attribute("epsilon", defs.OpSchema.AttrType.FLOAT, ""),
                    defs.OpSchema.Attribute("stash_type", defs.OpSchema.AttrType.INT, "")],
    )
    defs.register_schema(schema)


def mask_for_backbone(torch, attention_mask, dtype):
    """The additive key-padding mask [batch, 1, 1, seq] the fused attention layers read their lengths from."""
    blocked = torch.full((), torch.finfo(dtype).min, dtype=dtype, device=attention_mask.device)
    zero = torch.zeros((), dtype=dtype, device=attention_mask.device)
    return torch.where(attention_mask.bool()[:, None, None, :], zero, blocked)


def install(torch, onnx, model) -> int:
    """Swaps the attention and RMSNorm forwards of every decoder layer; returns the number of layers."""
    _register_simplified_layer_norm_schema(onnx)
    optional = torch.onnx.symbolic_helper._optional_input_placeholder_tensor

    class RMSNormFn(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, weight, eps: float):
            # Hugging Face's RMSNorm: the statistics in fp32, the product in the input dtype.
            h = x.float()
            h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)
            return weight * h.to(x.dtype)

        @staticmethod
        def symbolic(g, x, weight, eps: float):
            out = g.op("SimplifiedLayerNormalization", x, weight, axis_i=-1, epsilon_f=eps, stash_type_i=1)
            out.setType(x.type())
            return out

    class GroupQueryAttentionFn(torch.autograd.Function):
        @staticmethod
        def forward(ctx, q, k, v, seqlens_k, total_sequence_length, cos, sin, num_heads: int, kv_heads: int, scale: float):
            b, s, _ = q.shape
            d = q.shape[-1] // num_heads
            cos_full = torch.cat([cos, cos], dim=-1)[:s]
            sin_full = torch.cat([sin, sin], dim=-1)[:s]

            def heads(t, n):
                return t.view(b, s, n, d).transpose(1, 2)

            def rotate(t):
                half = t.shape[-1] // 2
                rotated = torch.cat([-t[..., half:], t[..., :half]], dim=-1)
                return t * cos_full + rotated * sin_full

            qh, kh, vh = rotate(heads(q, num_heads)), rotate(heads(k, kv_heads)), heads(v, kv_heads)
            groups = num_heads // kv_heads
            kh = kh.repeat_interleave(groups, dim=1)
            vh = vh.repeat_interleave(groups, dim=1)
            scores = torch.matmul(qh, kh.transpose(2, 3)) * scale
            positions = torch.arange(s, device=q.device)
            allowed = (positions[None, :] <= positions[:, None])[None, None] & (positions[None, :] <= seqlens_k.long()[:, None])[:, None, None, :]
            scores = scores.masked_fill(~allowed, torch.finfo(scores.dtype).min)
            probs = torch.softmax(scores.float(), dim=-1).to(q.dtype)
            return torch.matmul(probs, vh).transpose(1, 2).reshape(b, s, num_heads * d)

        @staticmethod
        def symbolic(g, q, k, v, seqlens_k, total_sequence_length, cos, sin, num_heads: int, kv_heads: int, scale: float):
            out, _, _ = g.op(
                "com.microsoft::GroupQueryAttention",
                q, k, v, optional(g), optional(g), seqlens_k, total_sequence_length, cos, sin,
                num_heads_i=num_heads, kv_num_heads_i=kv_heads, do_rotary_i=1, rotary_interleaved_i=0, scale_f=scale,
                outputs=3,
            )
            out.setType(q.type())
            return out

    def norm_forward(norm):
        eps = float(getattr(norm, "variance_epsilon", getattr(norm, "eps", 1e-6)))
        return lambda hidden_states: RMSNormFn.apply(hidden_states, norm.weight, eps)

    def attention_forward(attn):
        config = attn.config
        num_heads = config.num_attention_heads
        kv_heads = config.num_key_value_heads
        head_dim = attn.head_dim
        q_norm = getattr(attn, "q_norm", None)
        k_norm = getattr(attn, "k_norm", None)

        def forward(hidden_states, position_embeddings, attention_mask, *args, **kwargs):
            b, s, _ = hidden_states.shape
            q = attn.q_proj(hidden_states).view(b, s, num_heads, head_dim)
            k = attn.k_proj(hidden_states).view(b, s, kv_heads, head_dim)
            if q_norm is not None:
                q, k = q_norm(q), k_norm(k)
            v = attn.v_proj(hidden_states)
            # attention_mask is mask_for_backbone's [batch, 1, 1, seq]: 0 for a token, dtype min for padding.
            present = attention_mask[:, 0, 0, :] == 0
            seqlens_k = (present.sum(-1) - 1).to(torch.int32)
            total_sequence_length = torch.ones_like(present[0], dtype=torch.int32).sum().to(torch.int32)
            cos, sin = position_embeddings  # [1 or batch, seq, head_dim]: cat(freqs, freqs) with scaling applied
            half = cos.shape[-1] // 2
            context = GroupQueryAttentionFn.apply(
                q.reshape(b, s, num_heads * head_dim), k.reshape(b, s, kv_heads * head_dim), v,
                seqlens_k, total_sequence_length, cos[0, :, :half].to(q.dtype), sin[0, :, :half].to(q.dtype),
                num_heads, kv_heads, float(attn.scaling),
            )
            return attn.o_proj(context), None

        return forward

    layers = getattr(model, model.base_model_prefix).layers
    for layer in layers:
        for module in layer.modules():
            if type(module).__name__.endswith("RMSNorm"):
                module.forward = norm_forward(module)
        attn = layer.self_attn
        if not all(hasattr(attn, name) for name in ("q_proj", "k_proj", "v_proj", "o_proj", "head_dim", "scaling")):
            raise SystemExit(f"--attention fused: {type(attn).__name__} is not a Qwen3/Llama attention module; use --attention unfused")
        attn.forward = attention_forward(attn)
    return len(layers)
