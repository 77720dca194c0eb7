#!/usr/bin/env python3
"""Export a Hugging Face reward model to the model directory the service serves.

    python3 scripts/export_onnx.py --model LARK-Lab/CodeScaler-1.7B --out models/codescaler-1.7b

The checkpoint must be a *ForSequenceClassification with one label whose backbone keeps its final
norm at `<base>.norm` and its head at `score` (Qwen3, Llama: CodeScaler, Skywork-Reward-V2). The
directory written holds model.onnx (weights in model.onnx.data above 1.5 GB, under protobuf's 2 GiB
limit), config.json (pad_token_id filled in from the tokenizer when missing, torch_dtype set to the
ONNX weights' dtype), the tokenizer files and chat_template.jinja. The graph takes input_ids and
attention_mask (int64 [batch, seq], right-padded) and returns logits (float32 [batch, 1]): the
Hugging Face sequence-classification logits, read at the rightmost token that is not the pad token.

It also writes model-past.onnx (skip with --no-past): the same classifier for suffixes that continue
one shared prefix whose keys and values it takes (scripts/past_graph.py has the interface), its
weights pointing into model.onnx.data when there is one, and checks it against transformers run with
past_key_values.

fp16 keeps the final RMSNorm and the score head in fp32: the hidden state of the one row that is
read is cast to fp32 before the norm, and the norm weight and score weight are stored as fp32. The
logit is therefore never rounded to fp16 (whose spacing is 0.008 near 12), and the sum of squares
in the norm cannot overflow.

bf16 (--dtype bf16, the dtype CodeScaler was trained in; fp16's range, bf16's precision is coarser)
is handled as fp16 is.

After writing, the export is checked: ONNX Runtime (CPU for fp32; CUDA for fp16 and bf16, else the
CPU provider where it can run the graph) against PyTorch fp32 on right-padded batches of varied
lengths and sizes other than the traced ones. The script prints the largest |logit difference| and
exits 1 when it exceeds the tolerance: for fp32 2e-5 times the logit scale, at least 1e-4, from
measured fp32 rounding at 28 layers (docs/models.md); for fp16 and bf16 a multiple of torch's own
half-precision error on the same rows, plus a ranking check on best-of-N groups (scripts/half_check.py).

torch, transformers, onnx and onnxruntime are imported inside main, so --help works on a bare
python3. Install them with: pip install -r scripts/requirements-export.txt
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import json
import math
import shutil
import sys
import tempfile
import weakref
from pathlib import Path

import fused_attention
import half_check
import past_graph

#: fp32's tolerance floor; fp16's and bf16's are measured at each export (half_check.tolerance).
TOLERANCE = {"fp32": 1e-4}
#: fp32 rounding moves the logit in proportion to its scale (logit_scale), and more so with depth: the fp32
#: check accepts |onnx - torch fp32| up to this many logit scales, or TOLERANCE["fp32"] when that is more
#: (docs/models.md, "Tolerances", has the rule and the figures it rests on).
FP32_RELATIVE_TOLERANCE = 2e-5
DTYPE_NAMES = {"fp32": "float32", **half_check.HALF_DTYPES}
#: Above this many weight bytes the initializers go to model.onnx.data (protobuf caps a message at 2 GiB).
EXTERNAL_DATA_THRESHOLD_BYTES = 1_500_000_000
EXTERNAL_DATA_FILE = "model.onnx.data"
#: Smaller tensors stay inline in the graph file.
EXTERNAL_MIN_BYTES = 1024
#: Offsets of tensors in the data file are multiples of the page size.
DATA_ALIGNMENT = 4096
#: What the service reads besides model.onnx and config.json, and what tokenizers need to rebuild.
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.json",
    "merges.txt",
    "chat_template.jinja",
)
#: Hub files worth downloading: configs, safetensors weights, tokenizer and template; never remote code.
HUB_PATTERNS = ["*.json", "*.safetensors", "*.jinja", "*.txt", "*.model"]

# Pairs for the export check: different lengths so that every batch has padding, one long enough
# to exceed the traced sequence length, and special-token text inside the code.
CHECK_PAIRS = [
    ("Add two numbers.", "def add(a, b):\n    return a + b"),
    ("Reverse a list.", "def rev(xs):\n    return xs[::-1]"),
    ("Return the maximum of a list of integers, or None when it is empty.",
     "def biggest(xs):\n    if not xs:\n        return None\n    best = xs[0]\n    for x in xs[1:]:\n"
     "        if x > best:\n            best = x\n    return best"),
    ("Print hello.", "print('hello <|im_end|> <think>')"),
    ("Count vowels in a string (naïve approach is fine: ünïcödé counts).",
     "def vowels(s):\n    return sum(c in 'aeiouäëïöü' for c in s.lower())"),
    ("Sum of squares below n, written the long way.",
     "def squares(n):\n    total = 0\n" + "".join(f"    total += {i} * {i}  # step {i}\n" for i in range(60)) + "    return total"),
    ("x", "y = 1"),
]
# Index groups: batch sizes 3, 2 and 2 (the traced batch is 2 rows of 8 tokens; these differ).
CHECK_BATCHES = [[0, 1, 2], [3, 5], [4, 6]]
CHECK_MAX_LENGTH = 2048
# Prefix-sharing checks of model-past.onnx: (question of pair, codes of pairs), each group scored as a
# GRPO group is, its rendered question (the rows' longest common prefix) run once as the past. Suffixes
# of different lengths pad the batch; the single-row group leaves a one-token suffix.
PAST_CHECK_GROUPS = [(2, [0, 2, 4, 6]), (5, [1, 3]), (3, [3])]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="export_onnx.py",
        description=__doc__.split("\n\n")[0],
        epilog="Dtypes: fp16 or bf16 for the CUDA execution provider (half the memory and bandwidth); "
        "fp32 for the CPU provider and for bit-for-bit parity work. See README, 'Serve a real model'.",
    )
    parser.add_argument("--model", required=True, help="hub id (e.g. LARK-Lab/CodeScaler-1.7B) or a local checkpoint directory")
    parser.add_argument("--out", required=True, type=Path, help="output model directory (created; model files in it are replaced)")
    parser.add_argument("--dtype", choices=sorted(DTYPE_NAMES), default="fp32", help="ONNX weight dtype (default: fp32)")
    parser.add_argument("--opset", type=int, default=17, help="ONNX opset (default: 17)")
    parser.add_argument("--attention", choices=fused_attention.ATTENTION_FORMS, default=fused_attention.DEFAULT_ATTENTION_FORM,
                        help="fused: ONNX Runtime's GroupQueryAttention and SimplifiedLayerNormalization (see "
                        "scripts/fused_attention.py); unfused: plain operators, the reference form (default: %(default)s)")
    parser.add_argument("--revision", default=None, help="hub revision (branch, tag or commit) when --model is a hub id")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                        help="where PyTorch traces and computes the fp32 reference (auto: cuda when available)")
    parser.add_argument("--past", action=argparse.BooleanOptionalAction, default=True,
                        help="also write model-past.onnx, the graph with past keys and values for prefix sharing "
                        "(see scripts/past_graph.py), checked against transformers run with past_key_values (default: on)")
    parser.add_argument("--external-data-above", type=int, default=EXTERNAL_DATA_THRESHOLD_BYTES, metavar="BYTES",
                        help="weight bytes above which the weights go to model.onnx.data, shared by model-past.onnx "
                        "(default: %(default)s)")
    parser.add_argument("--tolerance", type=float, default=None,
                        help=f"largest accepted |onnx - torch fp32| logit difference (default: for fp32 {FP32_RELATIVE_TOLERANCE:g} x the "
                        "logit scale, at least 1e-4, see docs/models.md; for fp16 and bf16 "
                        f"{half_check.HALF_TOLERANCE_FACTOR:g} x torch's own half-precision error on the check rows)")
    return parser.parse_args(argv)


def import_or_explain(*modules: str) -> list:
    """The heavy dependencies, or an exit naming the requirements file."""
    import importlib

    loaded = []
    for name in modules:
        try:
            loaded.append(importlib.import_module(name))
        except ImportError as err:
            raise SystemExit(
                f"{Path(sys.argv[0]).name}: cannot import {name} ({err}); "
                "install the export requirements: pip install -r scripts/requirements-export.txt"
            ) from err
    return loaded


def chat_ids(tokenizer, question: str, code: str, max_length: int) -> tuple[str, list[int], bool]:
    """The service's prompt, the Hugging Face way: the model's chat template over [user, assistant],
    no generation prompt, tokenized without added special tokens, right-truncated to max_length."""
    messages = [{"role": "user", "content": question}, {"role": "assistant", "content": code}]
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=False)
    full = tokenizer(text, add_special_tokens=False)["input_ids"]
    ids = tokenizer(text, add_special_tokens=False, truncation=True, max_length=max_length)["input_ids"]
    return text, ids, len(full) > max_length


def abs_diff(a, b) -> float:
    """|a - b|, infinite when either side is missing or not finite (a NaN must fail a check, not pass it)."""
    if a is None or b is None or not (math.isfinite(a) and math.isfinite(b)):
        return math.inf
    return abs(a - b)


def pad_right(rows: list[list[int]], pad_token_id: int) -> tuple[list[list[int]], list[list[int]]]:
    """Right-padded input_ids and attention_mask, as the service's batch queue builds them."""
    width = max(len(r) for r in rows)
    ids = [r + [pad_token_id] * (width - len(r)) for r in rows]
    mask = [[1] * len(r) + [0] * (width - len(r)) for r in rows]
    return ids, mask


def resolve_pad_token_id(config, tokenizer) -> int:
    if config.pad_token_id is not None:
        return int(config.pad_token_id)
    if tokenizer.pad_token_id is not None:
        return int(tokenizer.pad_token_id)
    raise SystemExit("neither config.json nor the tokenizer names a pad token; the score could not be read at the last real token")


def resolve_source(model: str, revision: str | None) -> tuple[Path, str | None]:
    """A local checkpoint directory as is; a hub id downloaded (configs, safetensors, tokenizer files).
    Returns the directory and, for a hub id, the name to serve the model under."""
    if Path(model).is_dir():
        return Path(model), None
    (hub,) = import_or_explain("huggingface_hub")
    return Path(hub.snapshot_download(repo_id=model, revision=revision, allow_patterns=HUB_PATTERNS)), model


def check_config_read(source: Path, config) -> None:
    """transformers 5 writes rope_theta inside rope_parameters; an older transformers reading such a
    config.json falls back to its default base and would export a different model without a word."""
    raw = json.loads((source / "config.json").read_text(encoding="utf-8"))
    rope = raw.get("rope_parameters") or {}
    written = raw.get("rope_theta", rope.get("rope_theta"))
    read = getattr(config, "rope_theta", None) or (getattr(config, "rope_parameters", None) or {}).get("rope_theta")
    if written is not None and read != written:
        raise SystemExit(f"{source}/config.json sets rope_theta {written} but the installed transformers read {read}; "
                         "use a transformers release that reads this config")
    rope_type = rope.get("rope_type", rope.get("type"))
    if rope_type not in (None, "default") and not (getattr(config, "rope_scaling", None) or getattr(config, "rope_parameters", None)):
        raise SystemExit(f"{source}/config.json asks for {rope_type} rope scaling, which this transformers did not read")


def load_classifier(torch, transformers, source: Path, dtype, pad_token_id: int, device: str):
    """The checkpoint as a sequence classifier, refusing one whose head would be freshly initialized."""
    config = transformers.AutoConfig.from_pretrained(source)
    check_config_read(source, config)
    architectures = list(config.architectures or [])
    if not any(a.endswith("ForSequenceClassification") for a in architectures):
        raise SystemExit(f"{source}: architectures {architectures} holds no *ForSequenceClassification; "
                         "loading it as one would attach a randomly initialized score head")
    if config.num_labels != 1:
        raise SystemExit(f"{source}: num_labels is {config.num_labels}; a reward model has exactly one")
    model, info = transformers.AutoModelForSequenceClassification.from_pretrained(
        source, torch_dtype=dtype, attn_implementation="eager", output_loading_info=True,
    )
    if info["missing_keys"]:
        raise SystemExit(f"{source}: weights missing from the checkpoint (they would be random): {info['missing_keys'][:8]}")
    model.config.pad_token_id = pad_token_id
    return model.to(device).eval()


def hf_logits(torch, model, ids: list[list[int]], mask: list[list[int]]) -> list[float]:
    """Hugging Face's own forward: SequenceClassifierOutputWithPast.logits[:, 0]."""
    device = next(model.parameters()).device
    with torch.no_grad():
        out = model(input_ids=torch.tensor(ids, device=device), attention_mask=torch.tensor(mask, device=device))
    return out.logits[:, 0].float().cpu().tolist()


def score_head(torch, model, pad_token_id: int):
    """The classifier's read-out restated for export, shared by model.onnx and model-past.onnx: the
    hidden state at the rightmost non-pad token (Hugging Face's read-out rule), then the final RMSNorm
    and the score head in fp32. Norm and head act on each position independently, so reading one row
    first gives the logits Hugging Face computes over all positions. Made before anything swaps the
    backbone's final norm out."""
    backbone = getattr(model, model.base_model_prefix)
    final_norm = backbone.norm
    head = model.score

    class ScoreHead(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.norm_weight = torch.nn.Parameter(final_norm.weight.detach().float().clone(), requires_grad=False)
            self.norm_eps = float(getattr(final_norm, "variance_epsilon", getattr(final_norm, "eps", 1e-6)))
            self.score = torch.nn.Linear(head.in_features, head.out_features, bias=head.bias is not None,
                                         dtype=torch.float32, device=head.weight.device)
            self.score.load_state_dict({k: v.float() for k, v in head.state_dict().items()})

        def forward(self, hidden, input_ids):
            positions = torch.arange(input_ids.shape[1], device=input_ids.device)
            not_pad = (input_ids != pad_token_id).long()
            last = (positions[None, :] * not_pad).argmax(-1)
            row = hidden.gather(1, last[:, None, None].expand(-1, 1, hidden.shape[-1])).squeeze(1).float()
            normed = row * torch.rsqrt(row.pow(2).mean(-1, keepdim=True) + self.norm_eps)
            return self.score(self.norm_weight * normed)

    return ScoreHead().eval()


def logit_scale(torch, head) -> float:
    """||score weight * final norm weight||: the logit's standard deviation over hidden states of unit RMS,
    which is what the final RMSNorm hands the head, and so the scale fp32 rounding errors of the logit grow with."""
    return float((head.score.weight[0].detach().double() * head.norm_weight.detach().double()).norm())


def store_linears_transposed(torch, model) -> None:
    """Each Linear of the backbone keeps its weight as [in, out] and multiplies by it directly. The
    exporter turns a Linear into MatMul(x, Transpose(W)) and folds the Transpose into a new [in, out]
    initializer, which held a second copy of every projection until the graph was written (2.3x the
    weights at 1.7B). Stored transposed, the weights go into the graph as they are, and the swap holds
    one tensor's copy at a time."""
    for layer in model.modules():
        if type(layer) is not torch.nn.Linear:
            continue
        weight = layer.weight.detach()
        transposed = torch.empty((weight.shape[1], weight.shape[0]), dtype=weight.dtype, device=weight.device).copy_(weight.t())
        # Into the weight's own bytes: a loaded weight can be a view of a larger buffer, which freeing
        # the weight would not give back.
        in_place = weight.view(weight.shape[1], weight.shape[0]) if weight.is_contiguous() else transposed
        in_place.copy_(transposed)
        del transposed, layer.weight
        layer.weight_t = torch.nn.Parameter(in_place, requires_grad=False)
        layer.forward = (lambda lin: lambda x: torch.matmul(x, lin.weight_t) + lin.bias if lin.bias is not None
                         else torch.matmul(x, lin.weight_t))(layer)


def last_token_reward(torch, model, head, fused: bool = False):
    """The classifier restated for export: backbone without its final norm, then `head` (score_head).
    The additive causal + padding mask is built here rather than by transformers, so the trace does
    not depend on its mask helpers' version."""
    backbone = getattr(model, model.base_model_prefix)
    dtype = model.dtype
    mask_value = torch.finfo(dtype).min

    class LastTokenReward(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = backbone
            self.backbone.norm = torch.nn.Identity()
            self.head = head

        def forward(self, input_ids, attention_mask):
            positions = torch.arange(input_ids.shape[1], device=input_ids.device)
            causal = positions[None, :] <= positions[:, None]  # [query, key]: key at or before query
            allowed = causal[None, None, :, :] & attention_mask.bool()[:, None, None, :]
            zero = torch.zeros((), dtype=dtype, device=input_ids.device)
            blocked = torch.full((), mask_value, dtype=dtype, device=input_ids.device)
            hidden = self.backbone(
                input_ids=input_ids,
                attention_mask=fused_attention.mask_for_backbone(torch, attention_mask, dtype) if fused else torch.where(allowed, zero, blocked),
                position_ids=positions[None, :],
                use_cache=False,
            ).last_hidden_state
            return self.head(hidden, input_ids)

    return LastTokenReward().eval()


@contextlib.contextmanager
def placeholder_weights(torch, *modules):
    """Inside, every parameter of `modules` is a placeholder of its shape and dtype, allocated and never
    written (on the CPU the kernel backs it with no pages of its own; on a GPU it holds memory for the
    trace's duration), and outside, the parameter again. For tracing: the traced graphs take the
    weights as inputs (export_params=False), so their values never reach the graph, and the
    TorchScript exporter keeps the tensors it traced alive after it returns,
    out of Python's reach (at 4 layers of the 1.7B shape, 1.1 GB of weights and 1.3 GB of the mapped
    checkpoint stayed after del and gc, next to ONNX Runtime's copy of the weights in the check). The
    export check compares the written graph with transformers, so a graph that depended on the values
    would fail it. A parameter shared between modules gets one placeholder, so the graphs name it as before."""
    swapped, placeholders, placed = [], {}, set()
    for module in modules:
        for owner in module.modules():
            for name, weight in list(owner._parameters.items()):
                if weight is None or id(weight) in placed:  # already swapped, seen through another module
                    continue
                if id(weight) not in placeholders:
                    stand_in = torch.empty(weight.shape, dtype=weight.dtype, device=weight.device)
                    placeholders[id(weight)] = torch.nn.Parameter(stand_in, requires_grad=False)
                    placed.add(id(placeholders[id(weight)]))
                swapped.append((owner, name, weight))
                owner._parameters[name] = placeholders[id(weight)]
    try:
        yield
    finally:
        for owner, name, weight in reversed(swapped):
            owner._parameters[name] = weight


def trace(torch, module, example, scratch: Path, opset: int) -> Path:
    """TorchScript-exports `module`'s graph into `scratch`, without its weights (save_onnx adds them)."""
    raw = scratch / "model.onnx"
    with torch.no_grad():
        torch.onnx.export(
            module,
            example,
            str(raw),
            input_names=["input_ids", "attention_mask"],
            output_names=["logits"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "seq"},
                "attention_mask": {0: "batch", 1: "seq"},
                "logits": {0: "batch"},
            },
            opset_version=opset,
            do_constant_folding=True,
            export_params=False,  # the weights stay graph inputs, named by state_dict key; save_onnx writes them
            keep_initializers_as_inputs=True,  # no pass comparing weights by value: they are placeholders (placeholder_weights)
            dynamo=False,  # the TorchScript exporter: dynamic_axes as given, no onnxscript needed
        )
    return raw


def tensor_key(tensor, data) -> tuple:
    """What makes two initializers interchangeable: dtype, shape and bytes (names differ between graphs)."""
    return tensor.data_type, tuple(tensor.dims), hashlib.sha256(data).hexdigest()


def weights_as_initializers(onnx, torch, graph, state: dict) -> list:
    """The traced graph takes the module's weights as inputs named by their state_dict keys (the trace
    writes no weights): those inputs leave the graph's inputs and come back as initializers, each with
    its tensor to be written. An input that is neither a data input nor a weight is a bug of the export."""
    dtypes = {torch.float32: onnx.TensorProto.FLOAT, torch.float16: onnx.TensorProto.FLOAT16,
              torch.bfloat16: onnx.TensorProto.BFLOAT16, torch.int64: onnx.TensorProto.INT64}
    weights, data_inputs = [], []
    for value in graph.input:
        if value.name not in state:
            data_inputs.append(value)
            continue
        tensor = state[value.name].detach()
        initializer = onnx.TensorProto(name=value.name, data_type=dtypes[tensor.dtype], dims=list(tensor.shape))
        weights.append((initializer, tensor))
    del graph.input[:]
    graph.input.extend(data_inputs)
    return weights


def save_onnx(onnx, torch, raw: Path, state: dict, out: Path, name: str, external_above: int, inputs: list[str],
              shared: dict | None = None) -> tuple[int, dict]:
    """`name` from the traced graph `raw` and the module's weights `state`: inline, or in one data file
    when large. model.onnx writes model.onnx.data; a later graph given `shared` (what model.onnx's save
    returned) points each tensor that model.onnx already holds (same dtype, shape and bytes) at its bytes
    in model.onnx.data, and writes only the rest to `name`.data. Returns the weight bytes and where each
    tensor lies in the data file, by tensor_key.

    The weights go from the module's tensors to the file one at a time, so the export holds the model
    once, never a second copy of it. Files get the usual mode (the umask's): readable by whoever serves them."""
    proto = onnx.load(str(raw))
    weights = weights_as_initializers(onnx, torch, proto.graph, state)
    foreign = [v.name for v in proto.graph.input if v.name not in inputs]
    if foreign:
        raise SystemExit(f"{name}: the trace left inputs that are neither {inputs} nor weights: {foreign[:5]}; this is a bug of the export")
    total = sum(t.numel() * t.element_size() for _, t in weights)
    external = total > external_above
    data_file = EXTERNAL_DATA_FILE if shared is None else f"{name}.data"
    for stale in (name, data_file):
        (out / stale).unlink(missing_ok=True)
    placed: dict = {}
    with open(out / data_file, "wb") if external else contextlib.nullcontext() as sink:
        for initializer, tensor in weights:
            data = tensor.contiguous().reshape(-1).view(torch.uint8).numpy()  # the tensor's own bytes, not a copy
            if not external or data.nbytes < EXTERNAL_MIN_BYTES:
                initializer.raw_data = data.tobytes()
            else:
                key = tensor_key(initializer, data)
                where = (shared or {}).get(key)
                if where is None:
                    # Page-aligned, so that ONNX Runtime can map each tensor straight from the file.
                    offset = -(-sink.tell() // DATA_ALIGNMENT) * DATA_ALIGNMENT
                    sink.seek(offset)
                    sink.write(data)
                    where = {"location": data_file, "offset": str(offset), "length": str(data.nbytes)}
                placed[key] = where
                initializer.data_location = onnx.TensorProto.EXTERNAL
                for k, v in where.items():
                    initializer.external_data.add(key=k, value=v)
            proto.graph.initializer.append(initializer)
    if external and shared is not None and (out / data_file).stat().st_size == 0:
        (out / data_file).unlink()  # every tensor is one of model.onnx.data's
    onnx.save_model(proto, str(out / name))
    onnx.checker.check_model(str(out / name))
    return total, placed


def copy_model_files(transformers, source: Path, out: Path, pad_token_id: int, dtype_name: str, served_name: str | None) -> list[str]:
    """config.json (pad_token_id filled in, torch_dtype = the ONNX dtype) and the tokenizer files."""
    config = json.loads((source / "config.json").read_text(encoding="utf-8"))
    if config.get("pad_token_id") is None:
        config["pad_token_id"] = pad_token_id
    config["torch_dtype"] = dtype_name
    if "dtype" in config:
        config["dtype"] = dtype_name
    if served_name:
        config["_name_or_path"] = served_name
    (out / "config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    copied = ["config.json"]
    for name in TOKENIZER_FILES:
        # A file left by an earlier export would win over the new one (chat_template.jinja does).
        (out / name).unlink(missing_ok=True)
        if (source / name).is_file():
            shutil.copyfile(source / name, out / name)
            copied.append(name)
    if "tokenizer.json" not in copied:
        # The service reads the fast tokenizer's JSON; rebuild it from the slow files.
        transformers.AutoTokenizer.from_pretrained(source, use_fast=True).backend_tokenizer.save(str(out / "tokenizer.json"))
        copied.append("tokenizer.json (rebuilt)")
    tokenizer_config = json.loads((out / "tokenizer_config.json").read_text(encoding="utf-8"))
    if "chat_template.jinja" not in copied and not tokenizer_config.get("chat_template"):
        raise SystemExit(f"{source}: no chat template (chat_template.jinja or tokenizer_config.json); the service needs one")
    return copied


def check_rows(tokenizer) -> list[list[int]]:
    return [chat_ids(tokenizer, q, c, CHECK_MAX_LENGTH)[1] for q, c in CHECK_PAIRS]


def past_check_groups(tokenizer) -> list[tuple[list[int], list[list[int]]]]:
    """(prefix, suffixes) per PAST_CHECK_GROUPS entry; every suffix keeps at least one token."""
    groups = []
    for question, codes in PAST_CHECK_GROUPS:
        rows = [chat_ids(tokenizer, CHECK_PAIRS[question][0], CHECK_PAIRS[c][1], CHECK_MAX_LENGTH)[1] for c in codes]
        shared = min(past_graph.common_prefix_length(rows), min(len(r) for r in rows) - 1)
        groups.append((rows[0][:shared], [r[shared:] for r in rows]))
    return groups


def onnx_session(ort, path: Path, dtype_name: str):
    """CPU for fp32 (exact fp32 arithmetic); CUDA for fp16 and bf16 where onnxruntime has it, else the
    CPU provider, which runs some half-precision graphs (the caller records one it cannot load)."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # As the service's sessions at PREPACK_WEIGHTS=off (its default): weights read from the mapped
    # model.onnx.data, not copied into packed buffers (which held the weights twice while the session was made).
    options.add_session_config_entry("session.disable_prepacking", "1")
    if dtype_name == "float32" or "CUDAExecutionProvider" not in ort.get_available_providers():
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    if hasattr(ort, "preload_dlls"):
        ort.preload_dlls()  # CUDA and cuDNN from the pip packages torch brought in
    session = ort.InferenceSession(str(path), options, providers=["CUDAExecutionProvider"])
    if session.get_providers()[0] != "CUDAExecutionProvider":
        raise SystemExit(f"ONNX Runtime did not start the CUDA provider (got {session.get_providers()})")
    return session


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # torch before onnxruntime: onnxruntime-gpu can then use the CUDA libraries torch loaded.
    torch, transformers, onnx, np = import_or_explain("torch", "transformers", "onnx", "numpy")
    (ort,) = import_or_explain("onnxruntime")

    device = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    torch.backends.cuda.matmul.allow_tf32 = False  # the fp32 reference must be fp32
    torch.backends.cudnn.allow_tf32 = False
    dtype_name = DTYPE_NAMES[args.dtype]
    export_dtype = getattr(torch, dtype_name)

    source, served_name = resolve_source(args.model, args.revision)
    out: Path = args.out.resolve()
    if out == source.resolve():
        raise SystemExit(f"--out {out} is the checkpoint directory itself; choose another")
    out.mkdir(parents=True, exist_ok=True)

    tokenizer = transformers.AutoTokenizer.from_pretrained(source)
    pad_token_id = resolve_pad_token_id(transformers.AutoConfig.from_pretrained(source), tokenizer)
    rows = check_rows(tokenizer)
    batches = [pad_right([rows[i] for i in group], pad_token_id) for group in CHECK_BATCHES]

    print(f"loading {args.model} in fp32 on {device} for the reference", flush=True)
    model = load_classifier(torch, transformers, source, torch.float32, pad_token_id, device)
    reference = [hf_logits(torch, model, ids, mask) for ids, mask in batches]
    ranking_batches = [pad_right([chat_ids(tokenizer, CHECK_PAIRS[q][0], CHECK_PAIRS[c][1], CHECK_MAX_LENGTH)[1] for c in codes], pad_token_id)
                       for q, codes in half_check.RANKING_GROUPS] if args.dtype != "fp32" else []
    ranking_reference = [hf_logits(torch, model, ids, mask) for ids, mask in ranking_batches]
    groups = past_check_groups(tokenizer) if args.past else []
    # transformers with past_key_values, before install() swaps the attention forwards.
    past_reference = [past_graph.hf_past_run(torch, model, prefix, *pad_right(suffixes, pad_token_id)) for prefix, suffixes in groups]
    if export_dtype != torch.float32:
        del model
        gc.collect()
        if device == "cuda":
            torch.cuda.empty_cache()
        print(f"loading {args.model} in {dtype_name} on {device} for the export", flush=True)
        model = load_classifier(torch, transformers, source, export_dtype, pad_token_id, device)
    # Half precision's own error, as Hugging Face's classifier in that dtype shows it on the same rows.
    torch_half = [hf_logits(torch, model, ids, mask) for ids, mask in batches] if args.dtype != "fp32" else []
    ranking_torch_half = [hf_logits(torch, model, ids, mask) for ids, mask in ranking_batches]
    measured = half_check.tolerance(reference, torch_half, dtype_name) if args.dtype != "fp32" else {}
    tolerance = args.tolerance if args.tolerance is not None else measured.get("tolerance", TOLERANCE["fp32"])
    half_figures = {k: v for k, v in measured.items() if k != "tolerance"}  # recorded in export.json
    if measured:
        print(f"torch {dtype_name} vs fp32: max |diff| {measured['torch_half_max_abs_diff']}; tolerance {tolerance:.3g} "
              f"({measured['rule'] if args.tolerance is None else '--tolerance'})", flush=True)

    head = score_head(torch, model, pad_token_id)
    scale = logit_scale(torch, head)
    if args.tolerance is None and args.dtype == "fp32":
        tolerance = max(tolerance, FP32_RELATIVE_TOLERANCE * scale)
        print(f"logit scale {scale:.4g}: fp32 tolerance {tolerance:.3g}", flush=True)
    if args.attention == "fused":
        fused_attention.install(torch, onnx, model)
    module = last_token_reward(torch, model, head, fused=args.attention == "fused")
    store_linears_transposed(torch, module)
    with torch.no_grad():
        wrapped = [module(torch.tensor(ids, device=device), torch.tensor(mask, device=device))[:, 0].cpu().tolist() for ids, mask in batches]
    wrapper_diff = max(abs_diff(a, b) for got, want in zip(wrapped, reference) for a, b in zip(got, want))
    print(f"torch export module vs Hugging Face fp32: max |diff| {wrapper_diff:.3g}", flush=True)
    past_shape = past_graph.PastShape.of(model)
    if args.past:
        past_module = past_graph.past_reward(torch, model, head)
        run = past_graph.torch_runner(torch, past_module, device)
        diffs = [past_graph.group_diffs(run, past_shape.empty_torch(torch, export_dtype, device), prefix, *pad_right(suffixes, pad_token_id), want)
                 for (prefix, suffixes), want in zip(groups, past_reference)]
        print(f"torch past module vs Hugging Face with past_key_values: max |diff| {max(d['logits'] for d in diffs):.3g}", flush=True)
        del run  # it holds the past module, and so the model, which must go before ONNX Runtime loads the graph

    # Two rows of 8 tokens: a shape no check batch has, so a size frozen by the trace shows up there.
    example = tuple(torch.tensor(t, device=device) for t in pad_right([rows[0][:8], rows[1][:5]], pad_token_id))
    print(f"exporting {dtype_name} ONNX (opset {args.opset}) to {out}", flush=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".export-") as scratch:
        with placeholder_weights(torch, module, *([past_module] if args.past else [])):
            raw = trace(torch, module, example, Path(scratch), args.opset)
            if args.past:
                # A past of 3 positions: neither 0 nor any check's length, so a frozen past_len shows up in the check.
                past_example = past_shape.random_torch(torch, export_dtype, device, 3)
                raw_past = Path(scratch) / "past" / past_graph.PAST_MODEL_FILE
                raw_past.parent.mkdir()
                past_graph.trace(torch, past_module, example + tuple(past_example), raw_past, args.opset, past_shape.layers)
        weights, placed = save_onnx(onnx, torch, raw, module.state_dict(), out, "model.onnx", args.external_data_above,
                                    ["input_ids", "attention_mask"])
        past_file = out / past_graph.PAST_MODEL_FILE
        past_data = out / f"{past_graph.PAST_MODEL_FILE}.data"
        for stale in (past_file, past_data):
            stale.unlink(missing_ok=True)
        if args.past:
            save_onnx(onnx, torch, raw_past, past_module.state_dict(), out, past_graph.PAST_MODEL_FILE, args.external_data_above,
                      past_graph.io_names(past_shape.layers)[0], shared=placed)
            del past_module
    # The reference logits are taken: the torch model goes before ONNX Runtime loads the graph.
    model_ref = weakref.ref(model)
    del module, model, head
    gc.collect()
    if model_ref() is not None:
        print("warning: the torch model is still referenced, so its weights stay in memory next to ONNX Runtime's "
              "(a bug of the export)", flush=True)
    if device == "cuda":
        torch.cuda.empty_cache()
    onnx_files = [f.name for f in (out / "model.onnx", out / EXTERNAL_DATA_FILE, past_file, past_data) if f.exists()]
    copied = copy_model_files(transformers, source, out, pad_token_id, dtype_name, served_name)

    try:
        session = onnx_session(ort, out / "model.onnx", dtype_name)
    except Exception as err:  # noqa: BLE001 - onnxruntime raises its own classes for a graph it has no kernels for
        if dtype_name == "float32":
            raise
        provider = "CUDA" if "CUDAExecutionProvider" in ort.get_available_providers() else "CPU"
        reason = f"ONNX Runtime {ort.__version__}'s {provider} provider cannot run this {dtype_name} graph: {str(err).splitlines()[0]}"
        report_check = {"provider": None, "max_abs_diff": None, "tolerance": tolerance, **half_figures, "passed": None, "skipped": reason}
        (out / "export.json").write_text(json.dumps({"source": args.model, "dtype": dtype_name, "opset": args.opset,
                                                     "files": onnx_files + copied, "check": report_check}, indent=2) + "\n", encoding="utf-8")
        print(f"SKIPPED CHECK: wrote {out} ({dtype_name}); its logits were not compared with torch: {reason}")
        return 0
    worst = 0.0
    for (ids, mask), want in zip(batches, reference):
        logits = session.run(["logits"], {"input_ids": np.asarray(ids, dtype=np.int64), "attention_mask": np.asarray(mask, dtype=np.int64)})[0]
        if logits.shape != (len(ids), 1):
            raise SystemExit(f"ONNX logits have shape {logits.shape}, expected ({len(ids)}, 1)")
        diff = max(abs_diff(float(a), b) for a, b in zip(logits[:, 0], want))
        worst = max(worst, diff)
        print(f"  batch {len(ids)}x{len(ids[0])}: torch {['%.5f' % v for v in want]}  max |onnx - torch| {diff:.3g}")
    passed = worst <= tolerance
    ranking = None
    if ranking_batches:
        ranking_onnx = [session.run(["logits"], {"input_ids": np.asarray(ids, dtype=np.int64), "attention_mask": np.asarray(mask, dtype=np.int64)})[0][:, 0].tolist()
                        for ids, mask in ranking_batches]
        ranking = half_check.ranking_check(ranking_reference, ranking_torch_half, ranking_onnx)
        print(f"{'OK' if ranking['passed'] else 'FAILED'}: ranking of best-of-N groups: "
              + "; ".join(f"onnx {g['onnx']['pairs_in_order']} pairs in fp32 order (torch {dtype_name} {g['torch_half']['pairs_in_order']}), "
                          f"{len(g['onnx']['decided_pairs_flipped'])} of {g['onnx']['decided_pairs']} decided pairs flipped" for g in ranking["groups"]))
        passed = passed and ranking["passed"]
    provider = session.get_providers()[0]
    del session  # the past graph's session comes next; two would hold two sessions' memory at once
    gc.collect()
    past_check = None
    if args.past:
        past_check = check_past(onnx, ort, np, out / past_graph.PAST_MODEL_FILE, dtype_name, past_shape, groups, past_reference,
                                pad_token_id, tolerance)
        passed = passed and past_check["passed"]
    report = {
        "source": args.model,
        "revision": args.revision,
        "dtype": dtype_name,
        "opset": args.opset,
        "attention": args.attention,
        "external_data": (out / EXTERNAL_DATA_FILE).exists(),
        "weight_bytes": weights,
        "pad_token_id": pad_token_id,
        "files": onnx_files + copied,
        "check": {"provider": provider, "max_abs_diff": worst if math.isfinite(worst) else None, "tolerance": tolerance, "logit_scale": scale,
                  **half_figures, "passed": worst <= tolerance, "ranking": ranking},
        "past_check": past_check,
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "onnx": onnx.__version__, "onnxruntime": ort.__version__},
    }
    (out / "export.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    verdict = "OK" if passed else "FAILED"
    print(f"{verdict}: max |onnx - torch fp32| = {worst:.3g} (tolerance {tolerance:g}, {dtype_name}, {provider}); wrote {out}")
    return 0 if passed else 1


def check_past(onnx, ort, np, path: Path, dtype_name: str, shape, groups, past_reference, pad_token_id: int, tolerance: float) -> dict:
    """model-past.onnx against transformers with past_key_values: per group, the prefix pass's logit and
    present keys/values (against the DynamicCache) and the suffixes' logits; and no per-row copy of the past."""
    copies = past_graph.copies_of_past(onnx.load(str(path), load_external_data=False).graph)
    session = onnx_session(ort, path, dtype_name)
    run = past_graph.onnx_runner(np, session, shape.layers)
    worst = {"logits": 0.0, "prefix_logit": 0.0, "present": 0.0}
    for (prefix, suffixes), want in zip(groups, past_reference):
        diffs = past_graph.group_diffs(run, shape.empty_numpy(np, dtype_name), prefix, *pad_right(suffixes, pad_token_id), want)
        worst = {key: max(worst[key], diffs[key]) for key in worst}
        print(f"  past {len(prefix)} + suffixes {[len(s) for s in suffixes]}: max |onnx - transformers| logits {diffs['logits']:.3g}, "
              f"prefix pass logit {diffs['prefix_logit']:.3g}, present keys/values {diffs['present']:.3g}")
    for copy in copies:
        print(f"  the past is copied per row: {copy}")
    passed = all(value <= tolerance for value in worst.values()) and not copies
    print(f"{'OK' if passed else 'FAILED'}: {past_graph.PAST_MODEL_FILE} max |onnx - transformers with past_key_values| = "
          f"{worst['logits']:.3g} (present keys/values {worst['present']:.3g}, tolerance {tolerance:g})")
    return {"max_abs_diff": {k: v if math.isfinite(v) else None for k, v in worst.items()}, "past_copies": copies,
            "groups": [[len(prefix), [len(s) for s in suffixes]] for prefix, suffixes in groups], "passed": passed}


if __name__ == "__main__":
    sys.exit(main())
