"""A small client for code-reward-service (Python standard library only).

    from code_reward_client import CodeRewardClient
    client = CodeRewardClient("http://reward:8080")            # or CODE_REWARD_URL
    client.score([("Add two numbers.", "```python\\ndef add(a, b):\\n    return a + b\\n```")])
    client.rank("Add two numbers.", [answer_a, answer_b])["best"]

Overload (503), a gateway error (502, 504), a refused connection or a time-out is retried with
exponential backoff and jitter; a 503's Retry-After is honoured up to max_backoff_s. Other errors
raise RewardServiceError at once: they would fail again. Each call ends by deadline_s, retries and
waits included, and a gzip answer is never inflated past max_response_bytes.

Every scoring request carries the header x-reward-group, a hash of its question (group_key), so
that a router (deploy/nginx, ingress-nginx) sends all samples of one question to one replica, where
the question's tokens are computed once. With several base URLs (a list, or
CODE_REWARD_URL="http://a:8080,http://b:8080", a headless Service's pods say) the client routes by
the same key itself: rendezvous hashing ranks the replicas for each key, the first takes the
request, and a retry moves to the next in that ranking. The service ignores the header for scoring.

Each thread keeps its own keep-alive connection per replica; `ascore`, `arank` and `apost` run the
same calls off the event loop for asyncio callers.
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import http.client
import itertools
import json
import os
import random
import threading
import time
import urllib.parse
import zlib
from typing import Any, Iterable, Sequence

RETRY_STATUSES = frozenset({502, 503, 504})
GROUP_HEADER = "x-reward-group"


def group_key(question: str) -> str:
    """The x-reward-group value of a question: the first 16 hex digits of SHA-256 of its UTF-8 text."""
    return hashlib.sha256(question.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def rendezvous_order(key: str, urls: Sequence[str]) -> list[str]:
    """The replicas ranked for `key`, highest random weight first: each key keeps its replica while
    others come and go, and the keys of a removed replica spread over the rest."""
    return sorted(urls, key=lambda url: hashlib.sha256(f"{key}\n{url}".encode()).digest(), reverse=True)


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
        deadline_s: float = 600.0,
        max_response_bytes: int = 256 * 1024 * 1024,
    ):
        """timeout_s bounds each socket operation, deadline_s the whole call (every try and wait);
        max_backoff_s caps every wait, a server's Retry-After included; max_response_bytes caps an
        answer's size, after decompression."""
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
        self.deadline_s = deadline_s
        self.max_response_bytes = max_response_bytes
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
        # A request is routed as a whole: by its first item's question (a GRPO group shares one).
        group = group_key(body_items[0]["question"]) if body_items and isinstance(body_items[0].get("question"), str) else None
        return self.post("/v1/score", {"items": body_items, "extraction": extraction, "shaping": shaping}, group=group)["results"]

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
        return self.post("/v1/rank", body, group=group_key(question))

    async def ascore(self, items: Iterable[tuple[str, str] | dict[str, str]], **kwargs: str) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self.score, list(items), **kwargs)

    async def arank(self, question: str, responses: Sequence[str], **kwargs: str) -> dict[str, Any]:
        return await asyncio.to_thread(self.rank, question, list(responses), **kwargs)

    async def apost(self, path: str, body: dict[str, Any], group: str | None = None) -> Any:
        return await asyncio.to_thread(self.post, path, body, group)

    def post(self, path: str, body: dict[str, Any], group: str | None = None) -> Any:
        """POSTs body to path; `group` (a group_key) routes it and goes out as x-reward-group."""
        payload = json.dumps(body).encode()
        headers = {"content-type": "application/json", "accept-encoding": "gzip"}
        if self.api_key:
            headers["authorization"] = f"Bearer {self.api_key}"
        if group is not None:
            headers[GROUP_HEADER] = group
        deadline = time.monotonic() + self.deadline_s
        replicas = self._replicas(group)
        for attempt in range(self.max_retries + 1):
            base = replicas[attempt % len(replicas)]
            last = attempt == self.max_retries
            try:
                status, response_headers, data = self._send(base, path, payload, headers, deadline)
            except (OSError, http.client.HTTPException):
                # Refused, reset or timed out: the connection is gone; the next attempt opens a new one.
                self._drop(base)
                if last or time.monotonic() >= deadline:
                    raise
                self._sleep(self._backoff(attempt), deadline)
                continue
            if status in RETRY_STATUSES and not last:
                wait = retry_after_seconds(response_headers.get("retry-after"))
                # Never sooner than the server asked (up to max_backoff_s); jitter so that refused
                # clients do not return together.
                self._sleep(self._backoff(attempt) if wait is None else min(wait, self.max_backoff_s) + random.uniform(0, self.backoff_s), deadline)
                continue
            if status >= 400:
                raise _error_of(status, data)
            return json.loads(data)
        raise AssertionError("unreachable")

    def _sleep(self, seconds: float, deadline: float) -> None:
        """Waits before a retry; a wait that would end past the deadline ends the call instead."""
        if time.monotonic() + seconds >= deadline:
            raise TimeoutError(f"no answer within deadline_s={self.deadline_s}")
        time.sleep(seconds)

    def _send(self, base: str, path: str, payload: bytes, headers: dict[str, str], deadline: float) -> tuple[int, dict[str, str], bytes]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no answer within deadline_s={self.deadline_s}")
        connection = self._connection(base)
        # timeout_s bounds one socket operation; a server that trickles bytes is cut off at the deadline.
        watchdog = threading.Timer(remaining, _abort, (connection,))
        watchdog.daemon = True
        watchdog.start()
        try:
            prefix = urllib.parse.urlsplit(base).path
            connection.request("POST", prefix + path, body=payload, headers=headers)
            response = connection.getresponse()
            response_headers = {k.lower(): v for k, v in response.getheaders()}
            data = response.read(self.max_response_bytes + 1)
            if response.length and len(data) <= self.max_response_bytes:
                # read(n) returns what came before an early close; the rest of the body is missing.
                raise http.client.IncompleteRead(data, response.length)
        except (OSError, http.client.HTTPException):
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no answer within deadline_s={self.deadline_s}") from None
            raise
        finally:
            watchdog.cancel()
        if response_headers.get("content-encoding") == "gzip":
            data = self._gunzip(data)
        if len(data) > self.max_response_bytes:
            self._drop(base)
            raise RewardServiceError(response.status, "response_too_large", f"the answer exceeds max_response_bytes={self.max_response_bytes}")
        if response_headers.get("connection", "").lower() == "close":
            self._drop(base)
        return response.status, response_headers, data

    def _gunzip(self, data: bytes) -> bytes:
        """Inflates at most max_response_bytes + 1 bytes, so that a small gzip bomb stays small."""
        try:
            return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data, self.max_response_bytes + 1)
        except zlib.error as e:
            raise RewardServiceError(0, "bad_response", f"the answer's gzip body is corrupt: {e}") from None

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

    def _replicas(self, group: str | None) -> list[str]:
        """The order in which a call tries the replicas: by rendezvous hashing on its group key;
        without a key, starting from the next replica in turn."""
        if group is not None:
            return rendezvous_order(group, self.base_urls)
        with self._lock:
            start = next(self._next_url)
        return self.base_urls[start:] + self.base_urls[:start]

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


def _abort(connection: http.client.HTTPConnection) -> None:
    """Ends a call's reads at its deadline: a blocked recv returns at once when its socket is shut down."""
    sock = connection.sock
    if sock is not None:
        try:
            sock.shutdown(2)
        except OSError:
            pass


def _error_of(status: int, data: bytes) -> RewardServiceError:
    try:
        body = json.loads(data)
        return RewardServiceError(status, str(body.get("code", "")), str(body.get("error", "")))
    except (ValueError, AttributeError):
        return RewardServiceError(status, "", data[:500].decode(errors="replace"))
