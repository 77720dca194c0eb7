"""A Hugging Face reward-model checkpoint with random weights and a real model's head layout.

    python make_checkpoint.py {codescaler-qwen3|skywork-llama} TOKENIZER_DIR OUT_DIR [--size small|full]
                              [--layers N] [--hidden N] [--intermediate N]

The attention layout, RoPE settings, vocabulary and norms are the named model's (CodeScaler-1.7B is
Qwen3-1.7B with a one-label score head; Skywork-Reward-V2-Llama-3.1-8B is Llama 3.1 8B's). With
--size small (the default) depth, hidden and MLP widths are cut down so CPU CI can export and run it;
--size full keeps the named model's own (CodeScaler-1.7B: 28 layers, hidden 2048, MLP 6144; 6.9 GB in
fp32), which npm run bench:fullsize serves; --layers, --hidden and --intermediate override either's. q/k/v/o keep
their real head counts and head_dim, so the projections are hidden -> heads * 128 and the attention
is the real one. Writes config.json + safetensors (save_pretrained, shards of at most 1 GB so that
saving holds one shard's bytes besides the model) and the tokenizer files from TOKENIZER_DIR.
"""
import argparse
import shutil
from pathlib import Path

import torch
import transformers

SMALL = {"num_hidden_layers": 2, "hidden_size": 128, "intermediate_size": 384}

LAYOUTS = {
    # Qwen3-1.7B: 16 query heads, 8 KV heads, head_dim 128, RoPE base 1e6, tied embeddings, qk-norm.
    "codescaler-qwen3": (transformers.Qwen3Config, transformers.Qwen3ForSequenceClassification, {
        "vocab_size": 151936, "num_attention_heads": 16, "num_key_value_heads": 8, "head_dim": 128,
        "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0}, "max_position_embeddings": 40960,
        "rms_norm_eps": 1e-6, "hidden_act": "silu", "attention_bias": False, "tie_word_embeddings": True,
        "bos_token_id": 151643, "eos_token_id": 151645, "pad_token_id": 151643,
    }, {"num_hidden_layers": 28, "hidden_size": 2048, "intermediate_size": 6144}),
    # Llama 3.1 8B: 32 query heads, 8 KV heads, head_dim 128, RoPE base 500000 with llama3 scaling.
    "skywork-llama": (transformers.LlamaConfig, transformers.LlamaForSequenceClassification, {
        "vocab_size": 128256, "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 128,
        "rope_parameters": {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
                            "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
        "max_position_embeddings": 131072, "rms_norm_eps": 1e-5, "hidden_act": "silu", "attention_bias": False,
        "mlp_bias": False, "tie_word_embeddings": False, "bos_token_id": 128000, "eos_token_id": 128009, "pad_token_id": 128004,
    }, {"num_hidden_layers": 32, "hidden_size": 4096, "intermediate_size": 14336}),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("layout", choices=sorted(LAYOUTS))
    parser.add_argument("tokenizer_dir", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--size", choices=["small", "full"], default="small")
    parser.add_argument("--layers", type=int, default=None, help="depth (default: the size's)")
    parser.add_argument("--hidden", type=int, default=None, help="hidden width (default: the size's)")
    parser.add_argument("--intermediate", type=int, default=None, help="MLP width (default: the size's)")
    args = parser.parse_args()
    config_cls, model_cls, settings, full = LAYOUTS[args.layout]
    shape = dict(full if args.size == "full" else SMALL)
    for key, value in (("num_hidden_layers", args.layers), ("hidden_size", args.hidden), ("intermediate_size", args.intermediate)):
        if value is not None:
            shape[key] = value
    config = config_cls(**settings, **shape, num_labels=1, architectures=[model_cls.__name__])
    torch.manual_seed(0)
    model = model_cls(config).eval()
    with torch.no_grad():
        # Random init leaves the score head near 0.02 std; a wider head spreads the logits so that a
        # wrong token or position shows up far above the export's tolerance.
        model.score.weight.normal_(0.0, 0.5)
    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(args.out, safe_serialization=True, max_shard_size="1GB")
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copyfile(args.tokenizer_dir / name, args.out / name)
    print(f"{args.layout}: {sum(p.numel() for p in model.parameters()):,} parameters -> {args.out}")


if __name__ == "__main__":
    main()
