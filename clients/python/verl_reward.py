"""veRL custom reward function backed by code-reward-service.

    custom_reward_function.path=clients/python/verl_reward.py
    custom_reward_function.name=compute_score

veRL calls compute_score(data_source, solution_str, ground_truth, extra_info) once per rollout, where
solution_str is the decoded response alone. The reward model also needs the question: put the
problem statement in each sample's extra_info["question"] when preparing the dataset (veRL's own
examples keep it there); extra_info["prompt"] is used when "question" is absent. ground_truth is
not used: the reward model scores without executing or comparing.

The service URL(s) and key come from CODE_REWARD_URL (comma-separated for several replicas) and
CODE_REWARD_API_KEY; CODE_REWARD_EXTRACTION and CODE_REWARD_SHAPING override the CodeScaler
defaults (single_block, softplus). veRL runs compute_score for many samples at once in threads;
the service batches those concurrent requests on the GPU.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from code_reward_client import CodeRewardClient  # noqa: E402

_client: CodeRewardClient | None = None
_client_lock = threading.Lock()


def _shared_client() -> CodeRewardClient:
    global _client
    with _client_lock:
        if _client is None:
            _client = CodeRewardClient()
        return _client


def compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: Any,
    extra_info: dict[str, Any] | None = None,
    **kwargs: Any,
) -> dict[str, float]:
    """{"score": the shaped reward, "valid": 1.0 or 0.0, "truncated": 1.0 or 0.0}; veRL logs every key."""
    info = extra_info or {}
    question = info.get("question") or info.get("prompt")
    if not isinstance(question, str) or not question:
        raise ValueError(f"{data_source}: extra_info needs the problem statement under 'question' (or 'prompt') to score with the reward model")
    result = _shared_client().score(
        [(question, solution_str)],
        extraction=os.environ.get("CODE_REWARD_EXTRACTION", "single_block"),
        shaping=os.environ.get("CODE_REWARD_SHAPING", "softplus"),
    )[0]
    return {"score": float(result["reward"]), "valid": float(result["valid"]), "truncated": float(result["truncated"])}
