"""How far fp32 rounding moves a reward model's logit: the ONNX export (ONNX Runtime, CPU) and
transformers in fp32, each against transformers in float64, on the export check's own batches
(scripts/export_onnx.py CHECK_PAIRS / CHECK_BATCHES). The figures the export's fp32 tolerance rests on
(docs/models.md, "Tolerances").

    python bench/fp32_error.py CHECKPOINT_DIR EXPORT_DIR [--json OUT]

Memory: the float64 forward holds the weights at 8 bytes each (CodeScaler-1.7B's shape: 13.8 GB), so
at full depth run it on a narrower checkpoint (test/parity/make_checkpoint.py --hidden/--intermediate).
"""
import argparse
import gc
import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
import transformers

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import export_onnx  # noqa: E402


def logit_scale(model) -> float:
    """||score ⊙ final norm weight||₂: the logit's standard deviation over hidden states of unit RMS
    (what the final RMSNorm hands the head), so the scale every rounding error of the logit is read against."""
    backbone = getattr(model, model.base_model_prefix)
    return float((model.score.weight[0].detach().double() * backbone.norm.weight.detach().double()).norm())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("export", type=Path)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    tokenizer = transformers.AutoTokenizer.from_pretrained(args.checkpoint)
    config = transformers.AutoConfig.from_pretrained(args.checkpoint)
    pad = export_onnx.resolve_pad_token_id(config, tokenizer)
    rows = export_onnx.check_rows(tokenizer)
    batches = [export_onnx.pad_right([rows[i] for i in group], pad) for group in export_onnx.CHECK_BATCHES]

    session = export_onnx.onnx_session(ort, args.export / "model.onnx", "float32")
    onnx_logits = [float(v) for ids, mask in batches
                   for v in session.run(["logits"], {"input_ids": np.asarray(ids, dtype=np.int64), "attention_mask": np.asarray(mask, dtype=np.int64)})[0][:, 0]]
    del session
    gc.collect()

    model = export_onnx.load_classifier(torch, transformers, args.checkpoint, torch.float32, pad, "cpu")
    fp32 = [v for ids, mask in batches for v in export_onnx.hf_logits(torch, model, ids, mask)]
    scale = logit_scale(model)
    model.double()  # parameter by parameter: the fp32 weights go as the float64 ones come
    gc.collect()
    fp64 = [v for ids, mask in batches for v in export_onnx.hf_logits(torch, model, ids, mask)]
    worst = lambda a, b: max(abs(x - y) for x, y in zip(a, b))  # noqa: E731
    result = {
        "checkpoint": str(args.checkpoint),
        "layers": config.num_hidden_layers, "hidden": config.hidden_size, "intermediate": config.intermediate_size,
        "items": len(fp64), "logit_scale": scale, "max_abs_logit": max(abs(v) for v in fp64),
        "max_abs_diff": {"transformers_fp32_vs_fp64": worst(fp32, fp64), "onnx_vs_fp64": worst(onnx_logits, fp64),
                         "onnx_vs_transformers_fp32": worst(onnx_logits, fp32)},
        "logits": {"fp64": fp64, "transformers_fp32": fp32, "onnx": onnx_logits},
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "onnxruntime": ort.__version__},
    }
    rel = {k: v / scale for k, v in result["max_abs_diff"].items()}
    result["relative_to_scale"] = rel
    print(json.dumps({k: v for k, v in result.items() if k != "logits"}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
