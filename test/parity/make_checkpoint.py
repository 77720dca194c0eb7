"""A Hugging Face reward-model checkpoint with random weights and a real model's head layout.

    python make_checkpoint.py {codescaler-qwen3|skywork-llama} TOKENIZER_DIR OUT_DIR

The attention layout, RoPE settings, vocabulary and norms are the named model's (CodeScaler-1.7B is
Qwen3-1.7B with a one-label score head; Skywork-Reward-V2-Llama-3.1-8B is Llama 3.1 8B's); depth,
hidden and MLP widths are cut down so CPU CI can export and run it. q/k/v/o keep their real head
counts and head_dim, so the projections are hidden -> heads * 128 and the attention is the real one.
Writes config.json + model.safetensors (save_pretrained) and the tokenizer files from TOKENIZER_DIR.
"""
import shutil
import sys
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
    }),
    # Llama 3.1 8B: 32 query heads, 8 KV heads, head_dim 128, RoPE base 500000 with llama3 scaling.
    "skywork-llama": (transformers.LlamaConfig, transformers.LlamaForSequenceClassification, {
        "vocab_size": 128256, "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 128,
        "rope_parameters": {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
                            "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
        "max_position_embeddings": 131072, "rms_norm_eps": 1e-5, "hidden_act": "silu", "attention_bias": False,
        "mlp_bias": False, "tie_word_embeddings": False, "bos_token_id": 128000, "eos_token_id": 128009, "pad_token_id": 128004,
    }),
}


def main() -> None:
    layout, tokenizer_dir, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    config_cls, model_cls, settings = LAYOUTS[layout]
    config = config_cls(**settings, **SMALL, num_labels=1, architectures=[model_cls.__name__])
    torch.manual_seed(0)
    model = model_cls(config).eval()
    with torch.no_grad():
        # Random init leaves the score head near 0.02 std; a wider head spreads the logits so that a
        # wrong token or position shows up far above the 1e-4 tolerance.
        model.score.weight.normal_(0.0, 0.5)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copyfile(tokenizer_dir / name, out / name)
    print(f"{layout}: {sum(p.numel() for p in model.parameters()):,} parameters -> {out}")


if __name__ == "__main__":
    main()
