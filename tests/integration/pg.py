"""A private PostgreSQL cluster for the integration tests and the benchmarks.

`PgCluster` runs `initdb` and `pg_ctl` from `pg_config --bindir` in a fresh
directory under the system temp dir, listening on a free loopback port with
its unix socket in its own directory, `pg_stat_statements` preloaded, fsync
off. `initdb` refuses to run as root, so when we are root the server programs
run as the `postgres` user (`runuser -u postgres --`) on files that user owns.

It creates the database `luckygas_prod` (with `CREATE EXTENSION
pg_stat_statements`), the database `plain` (without it), and a login role
with a password, `MONITOR_ROLE`, a member of `pg_monitor`. The superuser
`postgres` connects over TCP without a password (trust); every other role
needs its password (scram-sha-256).

Use it as a context manager (`private_cluster()`, for scripts) or as the
session-scoped pytest fixture `postgres` (import it into a test module to
register it). A cluster that cannot start fails the fixture with the
server's log tail: it never skips.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

DATABASE = "luckygas_prod"
PLAIN_DATABASE = "plain"
MONITOR_ROLE = "luckytui_monitor"
MONITOR_PASSWORD = "monitor-pw-4b1f9e"  # a test secret: must never show in an error
SERVER_USER = "postgres"


class ClusterError(RuntimeError):
    """The private cluster could not be set up; the message ends with the log tail."""


def server_bindir() -> Path:
    """The folder of initdb, pg_ctl and postgres."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        bindir = Path(out.stdout.strip())
        if out.returncode == 0 and (bindir / "initdb").exists():
            return bindir
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    if candidates:
        return candidates[0].parent
    raise ClusterError("no PostgreSQL server programs: pg_config --bindir names no initdb")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgCluster:
    """One private PostgreSQL server: its files, its port, and its postmaster."""

    def __init__(self, *, max_connections: int = 1100, track_planning: bool = False,
                 extra_settings: dict[str, str] | None = None) -> None:
        self.bindir = server_bindir()
        self.as_server_user = os.geteuid() == 0
        self.root = Path(tempfile.mkdtemp(prefix="luckytui-pg-"))
        self.data = self.root / "data"
        self.sockets = self.root / "sockets"
        self.logfile = self.root / "server.log"
        self.port = free_port()
        self.host = "127.0.0.1"
        self.settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.sockets}'",
            "max_connections": str(max_connections),
            "shared_preload_libraries": "'pg_stat_statements'",
            "pg_stat_statements.track_planning": "on" if track_planning else "off",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "32MB",
            "max_wal_size": "256MB",
            "log_min_messages": "warning",
            "log_connections": "off",
            "deadlock_timeout": "10s",
            "autovacuum": "off",
        }
        self.settings.update(extra_settings or {})

    # --- running the server programs -------------------------------------------------

    def _command(self, program: str, *args: str) -> list[str]:
        argv = [str(self.bindir / program), *args]
        if self.as_server_user:
            return ["runuser", "-u", SERVER_USER, "--", *argv]
        return argv

    def _run(self, program: str, *args: str, timeout: float = 60) -> None:
        argv = self._command(program, *args)
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                                 cwd=self.root)
        except subprocess.TimeoutExpired:
            raise ClusterError(f"{program} did not finish within {timeout:g} s"
                               + self.log_tail()) from None
        if out.returncode != 0:
            raise ClusterError(
                f"{shlex.join(argv)} exited with {out.returncode}: "
                f"{(out.stderr or out.stdout).strip()[-2000:]}" + self.log_tail())

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.logfile.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return "\n(no server log)"
        return "\n--- server log tail ---\n" + "\n".join(text)

    def init(self) -> None:
        """initdb, the settings and pg_hba.conf (run once)."""
        self.sockets.mkdir()
        if self.as_server_user:
            pw = pwd.getpwnam(SERVER_USER)
            for path in (self.root, self.sockets):
                os.chown(path, pw.pw_uid, pw.pw_gid)
            self.root.chmod(0o755)
        self._run("initdb", "-D", str(self.data), "-U", SERVER_USER, "-E", "UTF8",
                  "--locale=C", "--no-sync", "--auth-local=trust", "--auth-host=trust")
        conf = "".join(f"{k} = {v}\n" for k, v in self.settings.items())
        with open(self.data / "postgresql.conf", "a") as f:
            f.write("\n# private test cluster\n" + conf)
        hba = (
            "local all all trust\n"
            f"host all {SERVER_USER} 127.0.0.1/32 trust\n"
            "host all all 127.0.0.1/32 scram-sha-256\n"
        )
        (self.data / "pg_hba.conf").write_text(hba)  # written as root: keep the owner
        if self.as_server_user:
            pw = pwd.getpwnam(SERVER_USER)
            os.chown(self.data / "pg_hba.conf", pw.pw_uid, pw.pw_gid)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-w", "-t", "60",
                  "start", timeout=90)

    def stop(self, mode: str = "immediate") -> None:
        """Stop the server (`pg_ctl stop -m immediate` by default: a crash-like stop)."""
        self.resume()  # a stopped (SIGSTOP) server cannot shut down
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop",
                  timeout=90)

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def pid(self) -> int:
        """The postmaster's pid (for SIGSTOP/SIGCONT; see `freeze`)."""
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def is_running(self) -> bool:
        pidfile = self.data / "postmaster.pid"
        if not pidfile.exists():
            return False
        try:
            os.kill(self.pid, 0)
        except (ProcessLookupError, ValueError):
            return False
        return True

    def server_pids(self) -> list[int]:
        """The postmaster and its children (each backend is in a session of its own)."""
        postmaster = self.pid
        pids = [postmaster]
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == postmaster:
                pids.append(int(entry.name))
        return pids

    def _signal_all(self, sig: signal.Signals) -> None:
        for pid in self.server_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)

    def freeze(self) -> None:
        """SIGSTOP the postmaster (first: it forks no more) and every backend: a hung server."""
        self._signal_all(signal.SIGSTOP)

    def resume(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._signal_all(signal.SIGCONT)

    # --- connecting --------------------------------------------------------------------

    def dsn(self, dbname: str = DATABASE, user: str = SERVER_USER, **extra: str | int) -> str:
        """A libpq conninfo string for this server over TCP (no password in it)."""
        params: dict[str, str | int] = {"host": self.host, "port": self.port,
                                        "dbname": dbname, "user": user, **extra}
        return " ".join(f"{k}={_quote(str(v))}" for k, v in params.items())

    def execute(self, sql: str, dbname: str = "postgres") -> None:
        """Run one statement as the superuser, in autocommit (setup only)."""
        import psycopg

        with psycopg.connect(self.dsn(dbname), autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql)

    def populate(self) -> None:
        self.execute(f"CREATE DATABASE {DATABASE}")
        self.execute(f"CREATE DATABASE {PLAIN_DATABASE}")
        self.execute("CREATE EXTENSION pg_stat_statements", dbname=DATABASE)
        self.execute(f"CREATE ROLE {MONITOR_ROLE} LOGIN PASSWORD '{MONITOR_PASSWORD}' "
                     "IN ROLE pg_monitor")
        self.execute("CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL); "
                     "INSERT INTO accounts SELECT g, 100 FROM generate_series(1, 10) g",
                     dbname=DATABASE)
        # the statements start empty: setup's CREATE DATABASE is nobody's slow query
        self.execute("SELECT pg_stat_statements_reset()", dbname=DATABASE)

    def destroy(self) -> None:
        """Stop the server if it runs and remove its files."""
        if self.is_running():
            with contextlib.suppress(ClusterError):
                self.stop()
            if self.is_running():  # pg_ctl failed: do not leave a server behind
                with contextlib.suppress(OSError, ValueError):
                    self._signal_all(signal.SIGKILL)
                time.sleep(0.2)
        shutil.rmtree(self.root, ignore_errors=True)


def _quote(value: str) -> str:
    if value and not any(c in value for c in " '\\"):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@contextlib.contextmanager
def private_cluster(*, max_connections: int = 1100, track_planning: bool = False,
                    extra_settings: dict[str, str] | None = None) -> Iterator[PgCluster]:
    """A started, populated private cluster, destroyed on exit."""
    cluster = PgCluster(max_connections=max_connections, track_planning=track_planning,
                        extra_settings=extra_settings)
    try:
        cluster.init()
        cluster.start()
        try:
            cluster.populate()
        except Exception as exc:
            raise ClusterError(f"setting up the databases failed: {exc}"
                               + cluster.log_tail()) from None
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PgCluster]:
    """A private PostgreSQL cluster for the whole test session (fails, never skips)."""
    try:
        with private_cluster() as cluster:
            yield cluster
    except ClusterError as exc:
        pytest.fail(f"the private PostgreSQL cluster could not start: {exc}", pytrace=False)
