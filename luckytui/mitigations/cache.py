"""The plan's cache remedy: clear the Redis cache (`redis-cli FLUSHALL`).

The plan reads what the flush would remove (the keyspace, DBSIZE, used memory,
the server's version) and freezes the server by its `run_id`: a server that
restarted (or another one now answering at that address) since the plan is
never flushed. The URL names the server, `redis://[user@]host:port[/db]`
(`rediss://` for TLS); a database number other than 0 flushes only that
database (FLUSHDB), otherwise every database goes (FLUSHALL). A password is
read from `REDISCLI_AUTH`, as redis-cli does; a URL carrying one is refused,
and no message ever shows it.

redis-py is imported on first use, off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import shlex
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from luckytui.mitigations.base import ActionError, Change, Outcome, Plan

T = TypeVar("T")
AUTH_ENV = "REDISCLI_AUTH"
CLIENT_NAME = "luckytui"
DEFAULT_PORT = 6379
MASK = "***"

_MODULES = ("redis.asyncio", "redis.asyncio.retry", "redis.backoff", "redis.exceptions")
_redis: dict[str, Any] = {}


def _import_all() -> dict[str, Any]:
    return {name: importlib.import_module(name) for name in _MODULES}


async def _load_redis() -> dict[str, Any]:
    """Import redis-py's asyncio client in a worker thread the first time."""
    if not _redis:
        _redis.update(await asyncio.to_thread(_import_all))
    return _redis


@dataclass(frozen=True, slots=True)
class RedisTarget:
    """Where the cache lives, parsed from its URL (never with a password)."""

    host: str
    port: int
    db: int
    username: str | None = None
    tls: bool = False

    @property
    def address(self) -> str:
        """`host:port` (an IPv6 host in brackets): what the operator types to confirm."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def url(self) -> str:
        scheme = "rediss" if self.tls else "redis"
        user = f"{self.username}@" if self.username else ""
        return f"{scheme}://{user}{self.address}/{self.db}"

    @property
    def flush(self) -> str:
        return "FLUSHDB" if self.db else "FLUSHALL"

    def command(self) -> str:
        argv = ["redis-cli", "-h", self.host, "-p", str(self.port)]
        if self.tls:
            argv.append("--tls")
        if self.username:
            argv += ["--user", self.username]
        if self.db:
            argv += ["-n", str(self.db)]
        return shlex.join([*argv, self.flush])


def mask_url(url: str) -> str:
    """The URL with any password replaced by ***."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "(an unreadable URL)"
    if not password:
        return url
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc=f"{user}:{MASK}@{host}").geturl()


def parse_url(url: str) -> RedisTarget:
    """`redis://[user@]host[:port][/db]` → a target; ActionError (masked) if not."""
    shown = mask_url(url)
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise ActionError(f"{shown!r} is not a Redis URL: write redis://host:port/db") from None
    if parts.scheme not in ("redis", "rediss"):
        raise ActionError(f"{shown!r} is not a Redis URL: write redis://host:port/db")
    if parts.password is not None:
        raise ActionError(f"the Redis URL {shown} carries a password: take it out of the "
                          f"URL and set {AUTH_ENV} instead")
    if not parts.hostname:
        raise ActionError(f"the Redis URL {shown} names no host")
    if parts.query or parts.fragment:
        raise ActionError(f"the Redis URL {shown} has options luckytui does not read: "
                          "write redis://host:port/db")
    path = parts.path.strip("/")
    if path and not path.isdigit():
        raise ActionError(f"the Redis URL {shown} names database {path!r}: "
                          "it must be a number")
    return RedisTarget(host=parts.hostname, port=port or DEFAULT_PORT,
                       db=int(path) if path else 0,
                       username=unquote(parts.username) if parts.username else None,
                       tls=parts.scheme == "rediss")


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in seen:
        seen.append(cur)
        cur = cur.__cause__ or cur.__context__
    return seen


def _seconds(value: float) -> str:
    return f"{value:g}"


def describe_redis_error(exc: BaseException, address: str, timeout: float) -> str:
    """One line saying why Redis at `address` did not do what was asked."""
    errors = _redis.get("redis.exceptions")
    text = " ".join(str(exc).split())
    if isinstance(exc, TimeoutError) or (
            errors is not None and isinstance(exc, errors.TimeoutError)):
        return f"no answer from Redis at {address} within {_seconds(timeout)} s"
    reach = f"cannot reach Redis at {address}"
    for cause in _chain(exc):
        if isinstance(cause, ConnectionRefusedError):
            return f"{reach}: connection refused"
        if isinstance(cause, socket.gaierror):
            return f"{reach}: host name not resolved"
        if isinstance(cause, ConnectionResetError):
            return f"{reach}: connection reset"
    if errors is not None:
        if isinstance(exc, errors.AuthenticationError):
            code = "WRONGPASS" if "password" in text.lower() else "NOAUTH"
            hint = "" if os.environ.get(AUTH_ENV) else f" (set {AUTH_ENV})"
            return f"Redis answered: {code} {text}{hint}"
        if isinstance(exc, errors.ResponseError):
            return f"Redis answered: {text}"
        if isinstance(exc, errors.ConnectionError):
            if "refused" in text.lower():
                return f"{reach}: connection refused"
            if "closed" in text.lower() or "reset" in text.lower():
                return f"{reach}: connection lost"
            return f"{reach}: {text}" if text else reach
    if isinstance(exc, OSError):
        return f"{reach}: {exc.strerror or text or type(exc).__name__}"
    return f"Redis at {address}: {type(exc).__name__}: {text}" if text else \
        f"Redis at {address}: {type(exc).__name__}"


def _count(n: int) -> str:
    return f"{n:,}"


def keyspace_lines(keyspace: Mapping[str, Any], db: int | None = None) -> tuple[str, ...]:
    """`INFO keyspace` as lines, `db0: keys=12,expires=0,avg_ttl=0` (one db, or all)."""
    lines = []
    for name in sorted(keyspace, key=lambda k: int(k[2:]) if k[2:].isdigit() else 0):
        if db is not None and name != f"db{db}":
            continue
        stats = keyspace[name]
        if isinstance(stats, Mapping):
            body = ",".join(f"{k}={v}" for k, v in stats.items())
        else:
            body = str(stats)
        lines.append(f"{name}: {body}")
    return tuple(lines)


def total_keys(keyspace: Mapping[str, Any]) -> int:
    total = 0
    for stats in keyspace.values():
        if isinstance(stats, Mapping):
            total += int(stats.get("keys", 0))
    return total


class CacheClear:
    """`cache-clear`: the plan's "Clear cache if needed" (FLUSHALL, or FLUSHDB of the
    URL's database when it is not 0)."""

    name = "cache-clear"
    summary = "Clear the Redis cache (the plan's FLUSHALL)"
    usage = ""

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        self.timeout = timeout
        self.shown_url = mask_url(url)
        self._target: RedisTarget | None = None
        self._url_error: str | None = None
        try:
            self._target = parse_url(url)
        except ActionError as exc:  # refused when used, so that the other actions stay
            self._url_error = str(exc)

    @property
    def target(self) -> RedisTarget:
        if self._target is None:
            raise ActionError(self._url_error or f"{self.shown_url} is not a Redis URL")
        return self._target

    def _client(self, target: RedisTarget) -> Any:
        retry, backoff = _redis["redis.asyncio.retry"], _redis["redis.backoff"]
        return _redis["redis.asyncio"].Redis(
            host=target.host, port=target.port, db=target.db, username=target.username,
            password=os.environ.get(AUTH_ENV) or None, ssl=target.tls,
            socket_timeout=self.timeout, socket_connect_timeout=self.timeout,
            # one connection, never retried: a flush must not land on a server
            # that answered after the connection broke
            single_connection_client=True, retry=retry.Retry(backoff.NoBackoff(), 0),
            client_name=CLIENT_NAME, decode_responses=True)

    async def _session(self, target: RedisTarget,
                       work: Callable[[Any], Awaitable[T]]) -> T:
        """Run `work(client)` on one fresh connection; every failure is one ActionError."""
        await _load_redis()
        password = os.environ.get(AUTH_ENV) or ""
        client = self._client(target)
        try:
            async with asyncio.timeout(self.timeout * 2):
                return await work(client)
        except ActionError:
            raise
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            message = describe_redis_error(exc, target.address, self.timeout)
            if password:
                message = message.replace(password, MASK)
            raise ActionError(message) from None
        finally:
            with contextlib.suppress(Exception):  # a broken connection: nothing to close
                await client.aclose()

    async def plan(self, *args: str) -> Plan:
        if args:
            raise ActionError(f"usage: {self.name} (no arguments: the URL names the cache)")
        target = self.target

        async def look(client: Any) -> dict[str, Any]:
            server = await client.info("server")
            memory = await client.info("memory")
            keyspace = await client.info("keyspace")
            dbsize = int(await client.dbsize())
            return {"server": server, "memory": memory, "keyspace": keyspace,
                    "dbsize": dbsize}

        seen = await self._session(target, look)
        server, keyspace = seen["server"], seen["keyspace"]
        run_id = str(server.get("run_id", ""))
        if not run_id:
            raise ActionError(f"Redis at {target.address} did not say its run_id: "
                              "cannot tell whether it restarted before the flush")
        version = str(server.get("redis_version", "?"))
        memory = str(seen["memory"].get("used_memory_human", "?"))
        if target.db:
            keys = seen["dbsize"]
            touches = keyspace_lines(keyspace, target.db)
            title = (f"Flush database {target.db} of the Redis cache at {target.address}, "
                     "only it (FLUSHDB): the other databases keep their keys")
        else:
            keys = total_keys(keyspace)
            touches = keyspace_lines(keyspace)
            title = f"Clear the Redis cache at {target.address}: every database (FLUSHALL)"
        if keys == 0:
            where = f"database {target.db} of " if target.db else ""
            raise ActionError(f"{where}Redis at {target.address} holds no keys: "
                              "nothing to clear")
        return Plan(
            action=self.name, title=f"{title}; Redis {version}",
            target=target.url,
            identity={"run_id": run_id, "address": target.address, "db": str(target.db)},
            changes=(Change("keys" if not target.db else f"keys in database {target.db}",
                            _count(keys), "0"),
                     Change("used memory", memory, "what the keys held is freed")),
            command=target.command(),
            args={"host": target.host, "port": target.port, "db": target.db,
                  "flush": target.flush, "keys": keys},
            typed_confirmation=target.address,
            touches=touches)

    async def execute(self, plan: Plan) -> Outcome:
        a = plan.args
        target = RedisTarget(host=str(a["host"]), port=int(a["port"]), db=int(a["db"]),
                             username=self.target.username, tls=self.target.tls)
        frozen = plan.identity.get("run_id")

        async def flush(client: Any) -> tuple[int, int]:
            now = str((await client.info("server")).get("run_id", ""))
            if now != frozen:
                raise ActionError(
                    f"Redis at {target.address} is not the server of the plan (run_id "
                    f"{str(frozen)[:8]}… → {now[:8] or '?'}…): it restarted or was "
                    "replaced; nothing was flushed: look again before acting")
            # count and flush in one transaction: the count is what the flush removed
            pipe = client.pipeline(transaction=True)
            if target.db:
                pipe.dbsize()
                pipe.flushdb()
            else:
                pipe.info("keyspace")
                pipe.flushall()
            before, _ = await pipe.execute()
            removed = int(before) if target.db else total_keys(before)
            return removed, int(await client.dbsize())

        removed, left = await self._session(target, flush)
        where = f"database {target.db} of " if target.db else ""
        detail = (f"{target.flush}: removed {_count(removed)} keys from {where}"
                  f"Redis at {target.address}")
        if left:
            detail += f"; {_count(left)} written since"
        return Outcome("ok", detail, changed={"keys_removed": removed, "keys_now": left,
                                              "flush": target.flush})


def cache_actions(url: str, *, timeout: float = 5.0) -> list[Any]:
    return [CacheClear(url, timeout=timeout)]
