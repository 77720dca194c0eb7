"""veRL custom reward function backed by code-reward-service (Python standard library only).

    custom_reward_function.path=clients/python/verl_reward.py
    custom_reward_function.name=compute_score          # or compute_score_async, compute_score_batch

veRL calls the function in one of three ways, and each name here takes that call:

- compute_score(data_source, solution_str, ground_truth, extra_info, **kwargs), once per rollout
  (the naive and prime reward managers; solution_str is the decoded response alone);
- compute_score_async(...) with the same arguments plus reward_router_address and
  reward_model_tokenizer, awaited by the reward loop's managers (they test
  inspect.iscoroutinefunction);
- compute_score_batch(data_sources, solution_strs, ground_truths, extra_infos, **kwargs), once per
  batch (the batch reward manager), one request for the whole batch. compute_score also accepts
  these list keywords, so name=compute_score works under every manager.

The reward model also needs the question: put the problem statement in each sample's
extra_info["question"] when preparing the dataset (veRL's own examples keep it there);
extra_info["prompt"] is used when "question" is absent. ground_truth is not used: the reward model
scores without executing or comparing. Each result is {"score", "valid", "truncated"}; veRL logs
every key.

The service URL(s) and key come from CODE_REWARD_URL (comma-separated for several replicas) and
CODE_REWARD_API_KEY; CODE_REWARD_EXTRACTION and CODE_REWARD_SHAPING override the CodeScaler
defaults (single_block, softplus).
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any, Sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from code_reward_client import shared_client  # noqa: E402


def _question(data_source: str, extra_info: dict[str, Any] | None) -> str:
    info = extra_info or {}
    question = info.get("question") or info.get("prompt")
    if not isinstance(question, str) or not question:
        raise ValueError(f"{data_source}: extra_info needs the problem statement under 'question' (or 'prompt') to score with the reward model")
    return question


def _score_many(data_sources: Sequence[str], solution_strs: Sequence[str], extra_infos: Sequence[dict[str, Any] | None]) -> list[dict[str, float]]:
    pairs = [(_question(source, info), solution) for source, solution, info in zip(data_sources, solution_strs, extra_infos, strict=True)]
    results = shared_client().score(
        pairs,
        extraction=os.environ.get("CODE_REWARD_EXTRACTION", "single_block"),
        shaping=os.environ.get("CODE_REWARD_SHAPING", "softplus"),
    )
    return [{"score": float(r["reward"]), "valid": float(r["valid"]), "truncated": float(r["truncated"])} for r in results]


def compute_score_batch(
    data_sources: Sequence[str],
    solution_strs: Sequence[str],
    ground_truths: Sequence[Any] | None = None,
    extra_infos: Sequence[dict[str, Any] | None] | None = None,
    **kwargs: Any,
) -> list[dict[str, float]]:
    """One result per rollout, in order, from one request."""
    infos = list(extra_infos) if extra_infos is not None else [None] * len(solution_strs)
    return _score_many(list(data_sources), list(solution_strs), infos)


def compute_score(
    data_source: str | None = None,
    solution_str: str | None = None,
    ground_truth: Any = None,
    extra_info: dict[str, Any] | None = None,
    **kwargs: Any,
) -> dict[str, float] | list[dict[str, float]]:
    """One rollout; or, called with veRL's batch keywords (solution_strs, ...), the batch form."""
    if "solution_strs" in kwargs:
        return compute_score_batch(**kwargs)
    return _score_many([data_source or ""], [solution_str or ""], [extra_info])[0]


async def compute_score_async(
    data_source: str,
    solution_str: str,
    ground_truth: Any = None,
    extra_info: dict[str, Any] | None = None,
    **kwargs: Any,
) -> dict[str, float]:
    """compute_score for the reward loop: the request runs in a worker thread, off the event loop."""
    return (await asyncio.to_thread(_score_many, [data_source], [solution_str], [extra_info]))[0]
