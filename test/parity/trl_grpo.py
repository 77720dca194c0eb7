"""Two GRPOTrainer steps on a tiny random policy, rewarded by clients/python/trl_reward.py against a
running service: argv[1] is clients/python, argv[2] the tokenizer directory, argv[3] a work dir.
Prints JSON: the rewards the trainer logged and what the reward function saw and returned."""

import json
import sys

sys.path.insert(0, sys.argv[1])

import torch  # noqa: E402
from datasets import Dataset  # noqa: E402
from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM  # noqa: E402
from trl import GRPOConfig, GRPOTrainer  # noqa: E402

import trl_reward  # noqa: E402

torch.manual_seed(0)
tokenizer = AutoTokenizer.from_pretrained(sys.argv[2])
tokenizer.padding_side = "left"
config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                     num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=256,
                     eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
policy = Qwen2ForCausalLM(config)

calls = []


def recorded(fn):
    """The client's reward function as the trainer sees it (same name, same kind), recording each call."""
    if fn is trl_reward.code_reward_async:
        async def wrapper(prompts, completions, **kwargs):
            rewards = await fn(prompts, completions, **kwargs)
            calls.append({"fn": fn.__name__, "prompts": prompts, "completions": completions, "rewards": rewards})
            return rewards
    else:
        def wrapper(prompts, completions, **kwargs):
            rewards = fn(prompts, completions, **kwargs)
            calls.append({"fn": fn.__name__, "prompts": prompts, "completions": completions, "rewards": rewards})
            return rewards
    wrapper.__name__ = fn.__name__
    return wrapper


questions = ["Write add(a, b) in Python.", "Reverse a list in Python.", "Sum a list in Python.", "Write fizzbuzz."]
result = {}
for fmt, rows in {
    "plain": [{"prompt": q} for q in questions],
    "conversational": [{"prompt": [{"role": "user", "content": q}]} for q in questions],
}.items():
    calls.clear()
    args = GRPOConfig(output_dir=f"{sys.argv[3]}/{fmt}", per_device_train_batch_size=4, num_generations=2,
                      max_completion_length=8, max_steps=2, logging_steps=1, report_to=[], use_cpu=True,
                      save_strategy="no", seed=0)
    trainer = GRPOTrainer(model=policy, reward_funcs=[recorded(trl_reward.code_reward), recorded(trl_reward.code_reward_async)],
                          args=args, train_dataset=Dataset.from_list(rows), processing_class=tokenizer)
    trainer.train()
    logged = [h for h in trainer.state.log_history if "reward" in h]
    result[fmt] = {"steps": trainer.state.global_step, "logged": logged, "calls": calls[:]}
print("RESULT " + json.dumps(result, default=str))
