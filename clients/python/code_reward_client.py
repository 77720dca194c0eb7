"""A small client for code-reward-service (needs only `requests`).

    from code_reward_client import CodeRewardClient
    client = CodeRewardClient("http://reward:8080")            # or CODE_REWARD_URL
    client.score([("Add two numbers.", "```python\\ndef add(a, b):\\n    return a + b\\n```")])
    client.rank("Add two numbers.", [answer_a, answer_b])["best"]

Overload (503), a gateway error (502, 504), a refused connection or a time-out is retried with
exponential backoff and jitter; a 503's Retry-After is honoured. Several base URLs (a list, or
CODE_REWARD_URL="http://a:8080,http://b:8080") are used in turn, and a retry moves to the next one.
Other errors raise RewardServiceError at once: they would fail again.
"""

from __future__ import annotations

import email.utils
import itertools
import os
import random
import threading
import time
from typing import Any, Iterable, Sequence

import requests

RETRY_STATUSES = frozenset({502, 503, 504})


class RewardServiceError(Exception):
    """An error answer of the service: HTTP status, stable code and message."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: a number of seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class CodeRewardClient:
    def __init__(
        self,
        base_url: str | Sequence[str] | None = None,
        api_key: str | None = None,
        timeout_s: float = 180.0,
        max_retries: int = 5,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
    ):
        urls = base_url if base_url is not None else os.environ.get("CODE_REWARD_URL", "http://127.0.0.1:8080")
        if isinstance(urls, str):
            urls = urls.split(",")
        self.base_urls = [u.strip().rstrip("/") for u in urls if u.strip()]
        if not self.base_urls:
            raise ValueError("no base URL")
        self.api_key = api_key if api_key is not None else os.environ.get("CODE_REWARD_API_KEY") or None
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self._next_url = itertools.cycle(range(len(self.base_urls)))
        self._lock = threading.Lock()
        # requests.Session is not documented as thread-safe: one per thread (trainers call from pools).
        self._local = threading.local()

    def score(
        self,
        items: Iterable[tuple[str, str] | dict[str, str]],
        extraction: str = "single_block",
        shaping: str = "softplus",
    ) -> list[dict[str, Any]]:
        """One result per (question, response), in order: reward, raw_score, valid, status, truncated, ..."""
        body_items = [it if isinstance(it, dict) else {"question": it[0], "response": it[1]} for it in items]
        return self.post("/v1/score", {"items": body_items, "extraction": extraction, "shaping": shaping})["results"]

    def rewards(self, items: Iterable[tuple[str, str] | dict[str, str]], **kwargs: str) -> list[float]:
        return [r["reward"] for r in self.score(items, **kwargs)]

    def rank(
        self,
        question: str,
        responses: Sequence[str],
        extraction: str = "single_block",
        shaping: str = "softplus",
    ) -> dict[str, Any]:
        """Best-of-N: {"best", "ranking" (highest reward first, ties in input order), "results"}."""
        body = {"question": question, "responses": list(responses), "extraction": extraction, "shaping": shaping}
        return self.post("/v1/rank", body)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        headers = {"authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        for attempt in range(self.max_retries + 1):
            url = self._url() + path
            last = attempt == self.max_retries
            try:
                response = self._session().post(url, json=body, headers=headers, timeout=self.timeout_s)
            except (requests.ConnectionError, requests.Timeout):
                if last:
                    raise
                time.sleep(self._backoff(attempt))
                continue
            if response.status_code in RETRY_STATUSES and not last:
                wait = retry_after_seconds(response.headers.get("retry-after"))
                # Never sooner than the server asked; jitter so that refused clients do not return together.
                time.sleep(self._backoff(attempt) if wait is None else wait + random.uniform(0, self.backoff_s))
                continue
            if response.status_code >= 400:
                raise _error_of(response)
            return response.json()
        raise AssertionError("unreachable")

    def _url(self) -> str:
        with self._lock:
            return self.base_urls[next(self._next_url)]

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _backoff(self, attempt: int) -> float:
        return random.uniform(0.5, 1.0) * min(self.max_backoff_s, self.backoff_s * 2**attempt)


def _error_of(response: requests.Response) -> RewardServiceError:
    try:
        body = response.json()
        return RewardServiceError(response.status_code, str(body.get("code", "")), str(body.get("error", "")))
    except ValueError:
        return RewardServiceError(response.status_code, "", response.text[:500])
