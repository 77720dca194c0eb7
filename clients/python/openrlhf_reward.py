"""OpenRLHF reward function backed by code-reward-service (Python standard library only).

    --reward.remote_url clients/python/openrlhf_reward.py

OpenRLHF posts each sample to /get_reward on its own, with no group key, so behind a router the
samples of one prompt spread over the replicas and each computes the prompt again. Given a .py path
instead of a URL, OpenRLHF calls this file's reward_func(queries, prompts, labels) per sample (in a
worker thread); it posts the same body to the same route with x-reward-group, the group key of the
prompt, so a router (deploy/nginx, ingress-nginx) or the client's several base URLs keep every
sample of a prompt on one replica. The answer is /get_reward's, as OpenRLHF reads it over HTTP:
{"rewards", "scores", "extra_logs"}.

CODE_REWARD_URL (comma-separated for several replicas) and CODE_REWARD_API_KEY name the service.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from code_reward_client import group_key, shared_client  # noqa: E402


def reward_func(queries: Sequence[str], prompts: Sequence[str], labels: Sequence[Any] | None = None) -> dict[str, Any]:
    """/get_reward's answer for these samples, routed by their first prompt."""
    body = {"query": list(queries), "prompts": list(prompts), "labels": list(labels) if labels is not None else [""] * len(queries)}
    return shared_client().post("/get_reward", body, group=group_key(prompts[0]) if prompts else None)
