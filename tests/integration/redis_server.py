"""A private Redis server for the integration tests.

`RedisServer` runs `redis-server` from the PATH on a free loopback port, with
no persistence (`--save "" --appendonly no`) and its working files in a fresh
temp directory; `restart()` brings a new process (a new run_id) up on the same
port. The function-scoped fixture `redis_server` (import it into a test module
to register it) fails, never skips, when the server cannot start.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis


class RedisServerError(RuntimeError):
    """The private server could not start; the message ends with its log tail."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """One private redis-server process on 127.0.0.1."""

    host = "127.0.0.1"

    def __init__(self, *, password: str | None = None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RedisServerError("no redis-server on the PATH: install the Debian "
                                   "package redis-server")
        self.binary = binary
        self.password = password
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="luckytui-redis-"))
        self.logfile = self.root / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def url(self, db: int = 0) -> str:
        return f"redis://{self.address}/{db}"

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.logfile.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return "\n(no server log)"
        return "\n--- server log tail ---\n" + "\n".join(text)

    def start(self, timeout: float = 10.0) -> None:
        argv = [self.binary, "--save", "", "--appendonly", "no", "--port", str(self.port),
                "--bind", self.host, "--dir", str(self.root), "--daemonize", "no",
                "--databases", "16"]
        if self.password:
            argv += ["--requirepass", self.password]
        with open(self.logfile, "ab") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.root)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RedisServerError(f"redis-server exited with {self.proc.returncode}"
                                       + self.log_tail())
            try:
                if self.client().ping():
                    return
            except redis.AuthenticationError:
                return  # up, and asking for the password
            except redis.ConnectionError:
                time.sleep(0.02)
        self.stop()
        raise RedisServerError(f"redis-server did not answer within {timeout:g} s"
                               + self.log_tail())

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def restart(self) -> None:
        self.stop()
        self.start()

    def client(self, db: int = 0) -> redis.Redis:
        """A separate, synchronous client (setup and reading back)."""
        return redis.Redis(host=self.host, port=self.port, db=db, password=self.password,
                           socket_timeout=2, socket_connect_timeout=2,
                           decode_responses=True)

    def fill(self, n: int, db: int = 0, prefix: str = "key") -> None:
        with self.client(db) as c:
            pipe = c.pipeline(transaction=False)
            for i in range(n):
                pipe.set(f"{prefix}:{i}", "x" * 32)
            pipe.execute()

    def dbsize(self, db: int = 0) -> int:
        with self.client(db) as c:
            return int(c.dbsize())

    def run_id(self) -> str:
        with self.client() as c:
            return str(c.info("server")["run_id"])

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def private_redis(*, password: str | None = None) -> Iterator[RedisServer]:
    server = RedisServer(password=password)
    try:
        server.start()
        yield server
    finally:
        server.destroy()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A private, empty redis-server for one test (fails, never skips)."""
    try:
        with private_redis() as server:
            yield server
    except RedisServerError as exc:
        pytest.fail(f"the private Redis server could not start: {exc}", pytrace=False)
