"""Hugging Face transformers in-process, the way CodeScaler runs its reward model: the same padded
batches the ONNX Runtime loop runs, through AutoModelForSequenceClassification read from the model
directory's config.json and model.safetensors (fp32, sdpa attention), timed around the forward only.

Reads one JSON object on stdin: {"model_dir", "threads", "pad_token_id", "runs": [{"name", "batches":
[[ids, ...], ...]}]} and writes {"torch", "transformers", "runs": [{"name", "wall_s", "logits"}]} on
stdout, the logits flat in batch order. Run it with the parity venv's python (PARITY_PYTHON)."""

import json
import sys
import time

import torch
import transformers
from transformers import AutoModelForSequenceClassification


def padded(batch, pad_token_id):
    width = max(len(ids) for ids in batch)
    input_ids = torch.full((len(batch), width), pad_token_id, dtype=torch.long)
    attention_mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, ids in enumerate(batch):
        input_ids[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        attention_mask[row, : len(ids)] = 1
    return input_ids, attention_mask


def main():
    request = json.load(sys.stdin)
    if request["threads"] > 0:
        torch.set_num_threads(request["threads"])
    model = AutoModelForSequenceClassification.from_pretrained(
        request["model_dir"], dtype=torch.float32, attn_implementation="sdpa"
    ).eval()
    pad = request["pad_token_id"]
    results = []
    with torch.inference_mode():
        for run in request["runs"]:
            feeds = [padded(batch, pad) for batch in run["batches"]]
            model(input_ids=feeds[0][0][:1], attention_mask=feeds[0][1][:1])  # warm-up, as the ONNX loop does
            logits = []
            started = time.perf_counter()
            for input_ids, attention_mask in feeds:
                logits.extend(model(input_ids=input_ids, attention_mask=attention_mask).logits[:, 0].tolist())
            results.append({"name": run["name"], "wall_s": time.perf_counter() - started, "logits": logits})
    json.dump({"torch": torch.__version__, "transformers": transformers.__version__, "runs": results}, sys.stdout)


if __name__ == "__main__":
    main()
