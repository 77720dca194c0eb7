"""Helpers of fused-export.test.ts, run with the parity venv's python (PARITY_PYTHON).

    fused_export.py checkpoint ARCH OUT TOKENIZER_DIR   random-weight ARCH (qwen3|llama) classifier in OUT
    fused_export.py logits MODEL_DIR                    transformers' logits for the batches on stdin

The checkpoints are small (2 layers, grouped-query heads, head_dim not hidden/heads for Qwen3) and use
the Qwen3 tokenizer files of TOKENIZER_DIR, so the export script finds a chat template."""

import json
import shutil
import sys
from pathlib import Path

import torch
import transformers

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")


def checkpoint(arch: str, out: Path, tokenizer_dir: Path) -> None:
    torch.manual_seed(0)
    common = dict(vocab_size=151936, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, max_position_embeddings=4096, rms_norm_eps=1e-6, num_labels=1,
                  pad_token_id=151643, bos_token_id=151643, eos_token_id=151645, tie_word_embeddings=False)
    if arch == "qwen3":
        config = transformers.Qwen3Config(head_dim=32, rope_theta=1_000_000, **common)
        model = transformers.Qwen3ForSequenceClassification(config)
    elif arch == "llama":
        config = transformers.LlamaConfig(head_dim=16, rope_theta=500_000, **common)
        model = transformers.LlamaForSequenceClassification(config)
    else:
        raise SystemExit(f"unknown arch {arch}")
    with torch.no_grad():  # spread the weights so that a wrong rotary, norm or mask moves the logit well past 1e-4
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1 + 0.5 * torch.randn_like(p))
            else:
                p.normal_(0, 0.1)
    model.save_pretrained(out)
    for name in TOKENIZER_FILES:
        shutil.copyfile(tokenizer_dir / name, out / name)


def logits(model_dir: Path) -> None:
    batches = json.load(sys.stdin)
    model = transformers.AutoModelForSequenceClassification.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="eager").eval()
    out = []
    with torch.no_grad():
        for batch in batches:
            ids = torch.tensor(batch["input_ids"])
            mask = torch.tensor(batch["attention_mask"])
            out.append(model(input_ids=ids, attention_mask=mask).logits[:, 0].tolist())
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    if command == "checkpoint":
        checkpoint(rest[0], Path(rest[1]), Path(rest[2]))
    elif command == "logits":
        logits(Path(rest[0]))
    else:
        raise SystemExit(f"unknown command {command}")
