"""The cache remedy against a real redis-server: what the plan shows, what the flush
removes (read back with a separate client), and what it refuses."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from luckytui.mitigations.base import ActionError
from luckytui.mitigations.cache import CacheClear, mask_url, parse_url
from tests.integration.redis_server import (
    RedisServer,
    RedisServerError,
    free_port,
    private_redis,
    redis_server,  # noqa: F401
)

SECRET = "s3cret-cache-pw-77a1"  # a test secret: must never show in a message


@pytest.fixture
def server(redis_server: RedisServer) -> RedisServer:  # noqa: F811
    return redis_server


@pytest.fixture
def locked_server() -> Iterator[RedisServer]:
    try:
        with private_redis(password=SECRET) as s:
            yield s
    except RedisServerError as exc:
        pytest.fail(f"the private Redis server could not start: {exc}", pytrace=False)


@pytest.fixture(autouse=True)
def no_auth_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDISCLI_AUTH", raising=False)


async def test_plan_shows_keys_memory_and_asks_for_the_address(server: RedisServer) -> None:
    server.fill(1234)
    server.fill(5, db=2)
    plan = await CacheClear(server.url()).plan()
    assert plan.action == "cache-clear"
    assert plan.typed_confirmation == server.address
    assert plan.command == f"redis-cli -h 127.0.0.1 -p {server.port} FLUSHALL"
    text = plan.describe()
    assert "keys: 1,239 → 0" in text
    assert "used memory: " in text and "M → " in text
    assert "every database (FLUSHALL)" in plan.title and "Redis 7." in plan.title
    assert plan.touches[0].startswith("db0: keys=1234,")
    assert plan.touches[1].startswith("db2: keys=5,")
    assert len(plan.touches) == 2
    assert plan.identity["run_id"] == server.run_id()
    assert server.dbsize() == 1234  # planning changed nothing


async def test_execute_empties_the_cache(server: RedisServer) -> None:
    server.fill(300)
    server.fill(7, db=1)
    action = CacheClear(server.url())
    plan = await action.plan()
    outcome = await action.execute(plan)
    assert outcome.ok
    assert outcome.detail == f"FLUSHALL: removed 307 keys from Redis at {server.address}"
    assert outcome.changed["keys_removed"] == 307
    assert server.dbsize() == 0 and server.dbsize(db=1) == 0


async def test_flushdb_on_another_db_leaves_db0_alone(server: RedisServer) -> None:
    server.fill(50)
    server.fill(20, db=3)
    action = CacheClear(server.url(db=3))
    plan = await action.plan()
    assert plan.command == f"redis-cli -h 127.0.0.1 -p {server.port} -n 3 FLUSHDB"
    assert "only it (FLUSHDB)" in plan.title
    assert "keys in database 3: 20 → 0" in plan.describe()
    assert plan.touches == (plan.touches[0],) and plan.touches[0].startswith("db3: keys=20,")
    outcome = await action.execute(plan)
    assert outcome.detail == (f"FLUSHDB: removed 20 keys from database 3 of Redis at "
                              f"{server.address}")
    assert server.dbsize(db=3) == 0
    assert server.dbsize() == 50


async def test_a_restarted_server_is_not_flushed(server: RedisServer) -> None:
    server.fill(10)
    action = CacheClear(server.url())
    plan = await action.plan()
    server.restart()
    server.fill(4)
    with pytest.raises(ActionError, match="not the server of the plan") as info:
        await action.execute(plan)
    assert "nothing was flushed" in str(info.value)
    assert server.dbsize() == 4


async def test_server_down_is_one_line() -> None:
    port = free_port()
    started = time.monotonic()
    with pytest.raises(ActionError) as info:
        await CacheClear(f"redis://127.0.0.1:{port}/0", timeout=2).plan()
    assert str(info.value) == f"cannot reach Redis at 127.0.0.1:{port}: connection refused"
    assert time.monotonic() - started < 2


async def test_server_gone_before_execute(server: RedisServer) -> None:
    server.fill(3)
    action = CacheClear(server.url())
    plan = await action.plan()
    server.stop()
    with pytest.raises(ActionError) as info:
        await action.execute(plan)
    assert str(info.value) == (f"cannot reach Redis at {server.address}: "
                               "connection refused")


async def test_an_empty_cache_has_nothing_to_clear(server: RedisServer) -> None:
    with pytest.raises(ActionError, match="holds no keys: nothing to clear"):
        await CacheClear(server.url()).plan()


async def test_a_url_with_a_password_is_refused(server: RedisServer) -> None:
    server.fill(2)
    url = f"redis://:{SECRET}@{server.address}/0"
    action = CacheClear(url)  # built: the refusal comes when it is used
    with pytest.raises(ActionError) as info:
        await action.plan()
    message = str(info.value)
    assert SECRET not in message
    assert "carries a password" in message and "REDISCLI_AUTH" in message
    assert f"redis://:***@{server.address}/0" in message
    assert SECRET not in action.shown_url
    assert server.dbsize() == 2


async def test_password_from_the_environment(locked_server: RedisServer,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    locked_server.fill(6)
    action = CacheClear(locked_server.url())
    with pytest.raises(ActionError) as info:
        await action.plan()
    assert str(info.value).startswith("Redis answered: NOAUTH ")
    assert "\n" not in str(info.value)

    monkeypatch.setenv("REDISCLI_AUTH", "wrong-" + SECRET)
    with pytest.raises(ActionError) as info:
        await action.plan()
    assert str(info.value).startswith("Redis answered: WRONGPASS ")
    assert SECRET not in str(info.value)

    monkeypatch.setenv("REDISCLI_AUTH", SECRET)
    plan = await action.plan()
    assert SECRET not in plan.describe() and SECRET not in repr(plan.args)
    outcome = await action.execute(plan)
    assert outcome.changed["keys_removed"] == 6
    assert locked_server.dbsize() == 0


async def test_arguments_are_refused(server: RedisServer) -> None:
    with pytest.raises(ActionError, match="usage: cache-clear"):
        await CacheClear(server.url()).plan("now")


def test_urls() -> None:
    t = parse_url("redis://cache.internal")
    assert (t.host, t.port, t.db, t.address) == ("cache.internal", 6379, 0, "cache.internal:6379")
    t = parse_url("rediss://ops@[::1]:6380/4")
    assert t.address == "[::1]:6380" and t.tls and t.username == "ops"
    assert t.command() == "redis-cli -h ::1 -p 6380 --tls --user ops -n 4 FLUSHDB"
    assert mask_url(f"redis://u:{SECRET}@h:1/0") == "redis://u:***@h:1/0"
    for bad in ("http://h:1/0", "redis://h:1/cache", "redis:///0", "redis://h:99999/0"):
        with pytest.raises(ActionError):
            parse_url(bad)
    with pytest.raises(ActionError) as info:
        parse_url(f"redis://:{SECRET}@h:1/0")
    assert SECRET not in str(info.value)


def test_module_import_is_light() -> None:
    import subprocess
    import sys

    code = ("import sys, luckytui.mitigations.cache; "
            "print(any(m == 'redis' or m.startswith('redis.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
