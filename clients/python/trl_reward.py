"""TRL GRPOTrainer reward functions backed by code-reward-service (Python standard library only).

    from trl import GRPOTrainer
    from trl_reward import code_reward                  # or code_reward_async
    trainer = GRPOTrainer(model=..., reward_funcs=[code_reward], train_dataset=...)

GRPOTrainer calls a reward function with prompts=[...], completions=[...] (one pair per
generation), completion_ids and the dataset's other columns as lists, plus trainer_state,
log_extra and log_metric; it expects one float per completion. Both of TRL's dataset formats work:

- plain: each prompt and completion is a string; the prompt is the question;
- conversational: each prompt is a list of {"role", "content"} messages and each completion a list
  holding the assistant message; the question is the prompt's last user message.

A dataset column "question" overrides the question taken from the prompt. The reward is the
service's shaped reward (CodeScaler's single_block extraction and softplus by default;
CODE_REWARD_EXTRACTION and CODE_REWARD_SHAPING override them). GRPOTrainer awaits an async reward
function alongside its other async ones (it tests inspect.iscoroutinefunction): use
code_reward_async there. CODE_REWARD_URL and CODE_REWARD_API_KEY name the service.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any, Sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from code_reward_client import shared_client  # noqa: E402


def _text(value: Any) -> str:
    """A plain string, or the content of a conversational message list (its last user message for a prompt)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        users = [m for m in value if isinstance(m, dict) and m.get("role") == "user"]
        message = (users or value)[-1] if value else {}
        content = message.get("content", "") if isinstance(message, dict) else ""
        if isinstance(content, list):
            # Multimodal content parts: the text parts, in order.
            return "".join(part.get("text", "") for part in content if isinstance(part, dict))
        return content if isinstance(content, str) else ""
    raise TypeError(f"expected a string or a list of messages, got {type(value).__name__}")


def _completion_text(completion: Any) -> str:
    if isinstance(completion, list):
        return "".join(_text([m]) for m in completion if isinstance(m, dict) and m.get("role") == "assistant")
    return _text(completion)


def _rewards(prompts: Sequence[Any], completions: Sequence[Any], questions: Sequence[Any] | None) -> list[float]:
    asked = list(questions) if questions is not None else [None] * len(prompts)
    pairs = [(q if isinstance(q, str) and q else _text(p), _completion_text(c)) for p, c, q in zip(prompts, completions, asked, strict=True)]
    return shared_client().rewards(
        pairs,
        extraction=os.environ.get("CODE_REWARD_EXTRACTION", "single_block"),
        shaping=os.environ.get("CODE_REWARD_SHAPING", "softplus"),
    )


def code_reward(prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float]:
    """One reward per completion, from one request."""
    return _rewards(prompts, completions, kwargs.get("question"))


async def code_reward_async(prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float]:
    """code_reward off the event loop, for GRPOTrainer's async reward functions."""
    return await asyncio.to_thread(_rewards, list(prompts), list(completions), kwargs.get("question"))
