"""HTTP, as every adapter speaks it: bounds on each answer, and failures in one line.

Bounds on every answer luckytui reads from the network: its size and its time.

An endless body, a gzip bomb (small on the wire, huge decoded) or a server that
trickles a byte a second must not grow the process or hold a pane forever. So
every reader here counts the *decoded* bytes as they arrive, in chunks the
decompressor is not allowed to exceed (urllib3's `read1` and aiohttp's
stream both decompress with a maximum length), and gives up past `max_bytes`;
and it stops at `max_s` after the request was sent, however steadily bytes
come in. Each failure is a `SourceError` with one line ("response over 8 MiB",
"no complete answer in 10 s"), shown on the source's pane; the next poll
starts afresh.

The defaults are the config's `[limits]`: 8 MiB for API answers (a page of
500 pods is ~0.6 MB), 1 MiB for endpoint probes, 10 s for one answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from luckytui.systems.errors import SourceError

if TYPE_CHECKING:
    import aiohttp

    from luckytui.config import LimitSettings

MIB = 1024 * 1024
DEFAULT_MAX_BODY = 8 * MIB
DEFAULT_MAX_PROBE = 1 * MIB
DEFAULT_MAX_ANSWER_S = 10.0
CHUNK = 64 * 1024


class AnswerTooLarge(SourceError):
    """The answer (decoded) is over its size limit."""


class AnswerTooSlow(SourceError):
    """The answer did not arrive in full within its time limit."""


def size_text(n: int) -> str:
    """8388608 → "8 MiB", 1536 → "1.5 KiB"."""
    for unit, size in (("GiB", 1024**3), ("MiB", MIB), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:.4g} {unit}"
    return f"{n} B"


@dataclass(frozen=True, slots=True)
class AnswerLimit:
    """How big (decoded) and how slow one answer may be."""

    max_bytes: int = DEFAULT_MAX_BODY
    max_s: float = DEFAULT_MAX_ANSWER_S

    def too_large(self) -> AnswerTooLarge:
        return AnswerTooLarge(f"response over {size_text(self.max_bytes)}")

    def too_slow(self, seconds: float | None = None) -> AnswerTooSlow:
        return AnswerTooSlow(f"no complete answer in {seconds or self.max_s:g} s")

    def deadline(self) -> float:
        """When an answer requested now must be complete (time.monotonic())."""
        return time.monotonic() + self.max_s

    def check_declared(self, headers: Mapping[str, str] | Any) -> None:
        """Refuse at once a body whose Content-Length is already over the limit."""
        declared = str(headers.get("Content-Length") or "").strip()
        if declared.isascii() and declared.isdigit() and int(declared) > self.max_bytes:
            raise self.too_large()


def api_limit(limits: LimitSettings) -> AnswerLimit:
    """The bound on an API's answer (Kubernetes, Prometheus, the database's HTTP API)."""
    return AnswerLimit(limits.max_body_bytes, limits.max_answer_s)


def probe_limit(limits: LimitSettings) -> AnswerLimit:
    """The bound on an endpoint probe's (or the login's) answer."""
    return AnswerLimit(limits.max_probe_bytes, limits.max_answer_s)


def read_sync(response: Any, limit: AnswerLimit, deadline: float) -> bytes:
    """The whole body of a urllib3 response made with preload_content=False, decoded,
    within `limit` and by `deadline`; otherwise the connection is closed (it is not
    reused with a body half read) and AnswerTooLarge / AnswerTooSlow is raised.

    `read1` returns what has arrived (one recv at most), so a trickle is checked
    against the deadline at every byte, and decodes at most `CHUNK` bytes a call.
    """
    body = bytearray()
    try:
        limit.check_declared(response.headers)
        while True:
            chunk = response.read1(CHUNK, decode_content=True)
            if not chunk:
                break
            body += chunk
            if len(body) > limit.max_bytes:
                raise limit.too_large()
            if time.monotonic() > deadline:
                raise limit.too_slow()
    except (AnswerTooLarge, AnswerTooSlow):
        with contextlib.suppress(Exception):
            response.close()
        raise
    with contextlib.suppress(Exception):
        response.release_conn()
    return bytes(body)


async def read_async(session: aiohttp.ClientSession, method: str, url: str,
                     limit: AnswerLimit, timeout_s: float | None = None,
                     **kwargs: Any) -> tuple[int, bytes]:
    """One aiohttp request: its status and whole body, decoded, within `limit` and
    within `timeout_s` (or the limit's `max_s`, whichever is shorter) in all.

    A time-out before the answer's headers is TimeoutError (the caller words it);
    one while the body arrives is AnswerTooSlow.
    """
    bound = limit.max_s if timeout_s is None else min(timeout_s, limit.max_s)
    answering = False
    try:
        async with asyncio.timeout(bound), session.request(method, url, **kwargs) as response:
            answering = True
            try:
                limit.check_declared(response.headers)
                body = bytearray()
                async for chunk in response.content.iter_chunked(CHUNK):
                    body += chunk
                    if len(body) > limit.max_bytes:
                        raise limit.too_large()
            except AnswerTooLarge:
                response.close()  # not back into the pool with a body half read
                raise
            return response.status, bytes(body)
    except TimeoutError:
        if answering:
            raise limit.too_slow(bound) from None
        raise


def _seconds(s: float) -> str:
    return f"{s:g}"


def _chain(exc: BaseException) -> Iterable[BaseException]:
    """The exception and its causes, innermost last, without looping."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        yield cur
        cur = cur.__cause__ or cur.__context__
        if isinstance(cur, BaseExceptionGroup) and cur.exceptions:
            cur = cur.exceptions[0]


def describe_error(exc: BaseException, timeout_s: float) -> str:
    """One line for the operator saying why a request got no answer (httpx's or
    aiohttp's exceptions)."""
    import httpx

    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return f"timed out after {_seconds(timeout_s)} s"
    aio = _describe_aiohttp(exc)
    if aio is not None:
        return aio
    for cause in _chain(exc):
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "host name not resolved"
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS certificate not trusted: {cause.verify_message or 'verify failed'}"
        if isinstance(cause, ssl.SSLError):
            return f"TLS error: {cause.reason or 'handshake failed'}"
        if isinstance(cause, ConnectionResetError):
            return "connection reset"
    text = " ".join(str(exc).split())
    if isinstance(exc, httpx.ConnectError):
        if "refused" in text.lower():
            return "connection refused"
        return f"cannot connect: {text}" if text else "cannot connect"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "server closed the connection without a complete answer"
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        return "connection broken while talking to the server"
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return f"invalid URL: {text}" if text else "invalid URL"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _describe_aiohttp(exc: BaseException) -> str | None:
    import aiohttp

    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        cert = exc.certificate_error
        detail = getattr(cert, "verify_message", None) or "verify failed"
        return f"TLS certificate not trusted: {detail}"
    if isinstance(exc, aiohttp.ClientSSLError):
        reason = getattr(exc.os_error, "reason", None) if hasattr(exc, "os_error") else None
        return f"TLS error: {reason or 'handshake failed'}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        cause = exc.os_error
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "host name not resolved"
        return f"cannot connect: {cause.strerror or cause}" if cause else "cannot connect"
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        return "server closed the connection without a complete answer"
    if isinstance(exc, aiohttp.InvalidURL | aiohttp.NonHttpUrlClientError):
        return f"invalid URL: {exc}"
    if isinstance(exc, aiohttp.ClientOSError):
        if isinstance(exc, ConnectionResetError) or exc.errno == 104:
            return "connection reset"
        return "connection broken while talking to the server"
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"HTTP {exc.status}: {exc.message}" if exc.message else f"HTTP {exc.status}"
    return None


USER_AGENT = "luckytui/0.1"


class Http(Protocol):
    """What luckytui needs of an HTTP API: one request, its status and whole body,
    within the answer's limits. Over a limit: `AnswerTooLarge` / `AnswerTooSlow`;
    any other failure is the client's own exception (`describe_error` words it)."""

    async def request(self, method: str, url: str, *,
                      json: Any = None) -> tuple[int, bytes]: ...

    async def aclose(self) -> None: ...


async def get_or_fail(http: Http, url: str, who: str, timeout_s: float) -> tuple[int, bytes]:
    """GET ``url``: its status and body, or one SourceError line naming ``who`` answered
    (or did not): over a limit, refused, timed out, a bad URL."""
    try:
        return await http.request("GET", url)
    except (AnswerTooLarge, AnswerTooSlow) as exc:
        raise SourceError(f"{who}: {exc}") from None
    except (asyncio.CancelledError, SourceError):
        raise
    except Exception as exc:  # aiohttp's errors, OSError, TimeoutError, a bad URL
        raise SourceError(f"{who}: {describe_error(exc, timeout_s)}") from None


class HttpClient:
    """The real adapter: aiohttp (imported on first use), one session kept until
    `aclose`, no cookies, redirects not followed, every answer within `limit`
    and `timeout_s`."""

    def __init__(self, limit: AnswerLimit | None = None, timeout_s: float = 5.0, *,
                 headers: Mapping[str, str] | None = None) -> None:
        self.limit = limit or AnswerLimit()
        self.timeout_s = timeout_s
        self.headers = {"User-Agent": USER_AGENT, **(headers or {})}
        self._session: aiohttp.ClientSession | None = None

    async def request(self, method: str, url: str, *,
                      json: Any = None) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            import aiohttp

            self._session = aiohttp.ClientSession(headers=self.headers,
                                                  cookie_jar=aiohttp.DummyCookieJar())
        return await read_async(self._session, method, url, self.limit, self.timeout_s,
                                allow_redirects=False,
                                **({} if json is None else {"json": json}))

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()
