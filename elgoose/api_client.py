"""Download one ElGoose API response, safely.

The body is streamed to a spool file, never held as Python objects, so a 700 MB
response costs the same memory as a 7 MB one. 429, 5xx, timeouts and dropped
connections are retried with exponential backoff that honours ``Retry-After``;
everything else (403, an HTML page, an ``error`` envelope) fails at once with a
message that names the endpoint.

In a task, ``ElGooseClient.from_connection()`` takes the base URL and the session (auth, headers,
proxies, TLS options) from the ``elgoose_api`` connection through Airflow's HTTP provider. This module
itself never imports Airflow: a one-shot load in a plain process (``ElGooseClient(base_url)``) does not
pay Airflow's two seconds of imports.
"""

from __future__ import annotations

import logging
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import IO

import requests
import tenacity

from elgoose.settings import API_CONN_ID, get_settings

log = logging.getLogger(__name__)

RETRYABLE_STATUS = {429, 500, 502, 503, 504}
_CHUNK = 1 << 20


class ElGooseError(RuntimeError):
    """A response that must not be loaded (bad status, not JSON, error envelope, truncation)."""


class RetryableHTTPError(ElGooseError):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class Download:
    url: str
    body: IO[bytes]
    size: int
    attempts: int


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        delta = parsedate_to_datetime(value) - datetime.now(UTC)
        return max(delta.total_seconds(), 0.0)
    except (TypeError, ValueError):
        return None


class _BackoffHonouringRetryAfter(tenacity.wait.wait_base):
    def __init__(self, initial: float, maximum: float, retry_after_max: float):
        self._exponential = tenacity.wait_exponential_jitter(multiplier=initial, max=maximum, jitter=initial)
        self._retry_after_max = retry_after_max

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, RetryableHTTPError) and exc.retry_after is not None:
            return min(exc.retry_after, self._retry_after_max)
        return self._exponential(retry_state)


def _is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, RetryableHTTPError):
        return True
    return isinstance(
        exc,
        (
            requests.exceptions.ConnectionError,
            requests.exceptions.Timeout,
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        ),
    )


class ElGooseClient:
    """GETs ``{method}.json?limit=N`` from ``base_url`` (e.g. ``https://elgoose.net/api/v2``)."""

    def __init__(
        self,
        base_url: str,
        *,
        session: requests.Session | None = None,
        user_agent: str | None = None,
        limit: int | None = None,
        max_attempts: int | None = None,
        backoff_initial: float | None = None,
        backoff_max: float | None = None,
        timeout: tuple[float, float] | None = None,
    ):
        """Each option left out comes from the settings (``get_settings()``)."""
        settings = get_settings()
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.user_agent = user_agent or settings.user_agent
        self.limit = limit or settings.request_limit
        self.max_attempts = max_attempts or settings.max_attempts
        self.backoff_initial = settings.backoff_initial_seconds if backoff_initial is None else backoff_initial
        self.backoff_max = settings.backoff_max_seconds if backoff_max is None else backoff_max
        self.retry_after_max = settings.retry_after_max_seconds
        self.timeout = timeout or (settings.connect_timeout_seconds, settings.read_timeout_seconds)

    @classmethod
    def from_connection(cls, conn_id: str = API_CONN_ID, **options) -> ElGooseClient:
        """The client of an Airflow HTTP connection: the provider's hook builds its URL and session."""
        from airflow.providers.http.hooks.http import HttpHook

        hook = HttpHook(method="GET", http_conn_id=conn_id)
        session = hook.get_conn()
        return cls(hook.base_url, session=session, **options)

    def url_for(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}?limit={self.limit}"

    def download(self, path: str) -> Download:
        """Fetch ``path`` (e.g. ``setlists.json``) into a spool file, retrying transient faults."""
        url = self.url_for(path)
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.max_attempts),
            wait=_BackoffHonouringRetryAfter(self.backoff_initial, self.backoff_max, self.retry_after_max),
            retry=tenacity.retry_if_exception(_is_retryable),
            before_sleep=lambda rs: log.warning(
                "%s: attempt %d failed (%s); retrying in %.1fs",
                url,
                rs.attempt_number,
                rs.outcome.exception() if rs.outcome else "?",
                rs.next_action.sleep if rs.next_action else 0,
            ),
            reraise=True,
        )
        attempts = 0
        try:
            for attempt in retrying:
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    body, size = self._fetch_once(path)
        except ElGooseError:
            raise
        except Exception as exc:
            raise ElGooseError(f"GET {url} failed after {attempts} attempt(s): {type(exc).__name__}: {exc}") from exc
        return Download(url=url, body=body, size=size, attempts=attempts)

    def _fetch_once(self, path: str) -> tuple[IO[bytes], int]:
        response = self.session.get(
            self.url_for(path),
            headers={"User-Agent": self.user_agent, "Accept": "application/json"},
            stream=True,
            timeout=self.timeout,
        )
        with response:
            status = response.status_code
            if status in RETRYABLE_STATUS:
                raise RetryableHTTPError(
                    f"HTTP {status} from {response.url} (attempts: {self.max_attempts})",
                    _retry_after_seconds(response.headers.get("Retry-After")),
                )
            if status == 403:
                raise ElGooseError(
                    f"HTTP 403 from {response.url}: ElGoose refuses requests without a descriptive "
                    f"User-Agent (sent {self.user_agent!r}; set ELGOOSE_USER_AGENT)"
                )
            if status != 200:
                raise ElGooseError(f"HTTP {status} from {response.url}")
            spool = tempfile.SpooledTemporaryFile(max_size=8 * _CHUNK)  # noqa: SIM115 - returned to the caller
            size = 0
            try:
                for chunk in response.iter_content(chunk_size=_CHUNK):
                    spool.write(chunk)
                    size += len(chunk)
            except BaseException:
                spool.close()
                raise
        spool.seek(0)
        return spool, size
