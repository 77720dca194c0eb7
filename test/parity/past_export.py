"""Helper of past-export.test.ts, run with the parity venv's python (PARITY_PYTHON).

    past_export.py logits MODEL_DIR   transformers' logits for the groups on stdin
    past_export.py copies             past_graph.copies_of_past on graphs whose past_key.0 reaches a MatMul
                                      through Expand, through Tile, and directly (JSON list of findings)

Each group is {prefix, input_ids, attention_mask}: right-padded suffixes that all continue `prefix`.
transformers scores them with past_key_values (a DynamicCache filled by a forward of the prefix,
scripts/past_graph.py's hf_past_run); an empty prefix is a plain forward of the suffixes."""

import json
import sys
from pathlib import Path

import torch
import transformers

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import past_graph  # noqa: E402


def logits(model_dir: Path) -> None:
    groups = json.load(sys.stdin)
    model = transformers.AutoModelForSequenceClassification.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="eager").eval()
    out = []
    for group in groups:
        if group["prefix"]:
            out.append(past_graph.hf_past_run(torch, model, group["prefix"], group["input_ids"], group["attention_mask"])["logits"])
        else:
            with torch.no_grad():
                result = model(input_ids=torch.tensor(group["input_ids"]), attention_mask=torch.tensor(group["attention_mask"]))
            out.append(result.logits[:, 0].tolist())
    json.dump(out, sys.stdout)


def copies() -> None:
    from onnx import TensorProto, helper

    def graph(op):
        copy = helper.make_node(op, ["k5", "repeats"], ["k_rows"]) if op else helper.make_node("Identity", ["k5"], ["k_rows"])
        nodes = [helper.make_node("Unsqueeze", ["past_key.0", "axes"], ["k5"]), copy, helper.make_node("MatMul", ["q", "k_rows"], ["scores"])]
        inputs = [helper.make_tensor_value_info("past_key.0", TensorProto.FLOAT, [1, 2, 3, 4]), helper.make_tensor_value_info("q", TensorProto.FLOAT, None)]
        return helper.make_graph(nodes, "g", inputs, [helper.make_tensor_value_info("scores", TensorProto.FLOAT, None)])

    json.dump([past_graph.copies_of_past(graph(op)) for op in ("Expand", "Tile", None)], sys.stdout)


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    if command == "logits":
        logits(Path(rest[0]))
    elif command == "copies":
        copies()
    else:
        raise SystemExit(f"unknown command {command}")
