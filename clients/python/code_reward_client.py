"""A small client for code-reward-service (Python standard library only).

    from code_reward_client import CodeRewardClient
    client = CodeRewardClient("http://reward:8080")            # or CODE_REWARD_URL
    client.score([("Add two numbers.", "```python\\ndef add(a, b):\\n    return a + b\\n```")])
    client.rank("Add two numbers.", [answer_a, answer_b])["best"]

Overload (503), a gateway error (502, 504), a refused connection or a time-out is retried with
exponential backoff and jitter; a 503's Retry-After is honoured. Several base URLs (a list, or
CODE_REWARD_URL="http://a:8080,http://b:8080") are used in turn, and a retry moves to the next one.
Other errors raise RewardServiceError at once: they would fail again. Each thread keeps its own
keep-alive connection per replica; `ascore`, `arank` and `apost` run the same calls off the event
loop for asyncio callers.
"""

from __future__ import annotations

import asyncio
import email.utils
import gzip
import http.client
import itertools
import json
import os
import random
import threading
import time
import urllib.parse
from typing import Any, Iterable, Sequence

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
        # http.client connections are not thread-safe: one per thread and replica (trainers call from pools).
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

    async def ascore(self, items: Iterable[tuple[str, str] | dict[str, str]], **kwargs: str) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self.score, list(items), **kwargs)

    async def arank(self, question: str, responses: Sequence[str], **kwargs: str) -> dict[str, Any]:
        return await asyncio.to_thread(self.rank, question, list(responses), **kwargs)

    async def apost(self, path: str, body: dict[str, Any]) -> Any:
        return await asyncio.to_thread(self.post, path, body)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        payload = json.dumps(body).encode()
        headers = {"content-type": "application/json", "accept-encoding": "gzip"}
        if self.api_key:
            headers["authorization"] = f"Bearer {self.api_key}"
        for attempt in range(self.max_retries + 1):
            base = self._url()
            last = attempt == self.max_retries
            try:
                status, response_headers, data = self._send(base, path, payload, headers)
            except (OSError, http.client.HTTPException):
                # Refused, reset or timed out: the connection is gone; the next attempt opens a new one.
                self._drop(base)
                if last:
                    raise
                time.sleep(self._backoff(attempt))
                continue
            if status in RETRY_STATUSES and not last:
                wait = retry_after_seconds(response_headers.get("retry-after"))
                # Never sooner than the server asked; jitter so that refused clients do not return together.
                time.sleep(self._backoff(attempt) if wait is None else wait + random.uniform(0, self.backoff_s))
                continue
            if status >= 400:
                raise _error_of(status, data)
            return json.loads(data)
        raise AssertionError("unreachable")

    def _send(self, base: str, path: str, payload: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        connection = self._connection(base)
        prefix = urllib.parse.urlsplit(base).path
        connection.request("POST", prefix + path, body=payload, headers=headers)
        response = connection.getresponse()
        data = response.read()
        response_headers = {k.lower(): v for k, v in response.getheaders()}
        if response_headers.get("content-encoding") == "gzip":
            data = gzip.decompress(data)
        if response_headers.get("connection", "").lower() == "close":
            self._drop(base)
        return response.status, response_headers, data

    def _connection(self, base: str) -> http.client.HTTPConnection:
        connections = self._local.__dict__.setdefault("connections", {})
        connection = connections.get(base)
        if connection is None:
            url = urllib.parse.urlsplit(base)
            cls = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
            connection = connections[base] = cls(url.hostname, url.port, timeout=self.timeout_s)
        return connection

    def _drop(self, base: str) -> None:
        connection = self._local.__dict__.get("connections", {}).pop(base, None)
        if connection is not None:
            connection.close()

    def _url(self) -> str:
        with self._lock:
            return self.base_urls[next(self._next_url)]

    def _backoff(self, attempt: int) -> float:
        return random.uniform(0.5, 1.0) * min(self.max_backoff_s, self.backoff_s * 2**attempt)


_shared: CodeRewardClient | None = None
_shared_lock = threading.Lock()


def shared_client() -> CodeRewardClient:
    """One client per process, configured from the environment, for reward functions that trainers
    call as plain functions (veRL's compute_score, TRL's reward functions)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = CodeRewardClient()
        return _shared


def _error_of(status: int, data: bytes) -> RewardServiceError:
    try:
        body = json.loads(data)
        return RewardServiceError(status, str(body.get("code", "")), str(body.get("error", "")))
    except (ValueError, AttributeError):
        return RewardServiceError(status, "", data[:500].decode(errors="replace"))
