"""The event log's SQLite file: its schema, creating it, and opening an existing one.

A log is created with folders 0700 and the file 0600, in WAL mode. Opening one only
to read it (verify, export) creates nothing and names what a file that is not a
log is: missing, empty, cut short, damaged, or another program's database.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

import aiosqlite

from luckytui.store.chain import GENESIS_HASH

#: ``PRAGMA application_id`` of a luckytui event log ("LKYT").
APPLICATION_ID = 0x4C4B5954
#: Schema version kept in ``PRAGMA user_version``.
SCHEMA_VERSION = 1
_SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5_000
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26
_SQLITE_HEADER_SIZE = 100

_SCHEMA = f"""
CREATE TABLE events (
    id        INTEGER PRIMARY KEY,
    ts        TEXT NOT NULL,
    kind      TEXT NOT NULL,
    actor     TEXT NOT NULL,
    incident  TEXT,
    data      TEXT NOT NULL,
    dedupe    TEXT UNIQUE,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX events_incident ON events (incident, id);
CREATE TABLE head (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    last_id   INTEGER NOT NULL,
    last_hash TEXT NOT NULL
);
INSERT INTO head (singleton, last_id, last_hash) VALUES (1, 0, '{GENESIS_HASH}');
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the luckytui event log is append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the luckytui event log is append-only'); END;
CREATE TRIGGER head_no_delete BEFORE DELETE ON head
BEGIN SELECT RAISE(ABORT, 'the luckytui event log is append-only'); END;
CREATE TRIGGER head_forward_only BEFORE UPDATE ON head WHEN NEW.last_id <= OLD.last_id
BEGIN SELECT RAISE(ABORT, 'the luckytui event log is append-only'); END;
"""



class LogError(Exception):
    """The event log cannot be opened, read or written. The message is one line."""



def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__



def prepare_file(path: Path) -> Path:
    """Create missing parent folders (0700) and the file (0600); reject a non-SQLite file."""
    path = path.expanduser()
    missing: list[Path] = []
    parent = path.parent
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            continue
        os.chmod(folder, 0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        try:
            os.fchmod(fd, 0o600)
        finally:
            os.close(fd)
    with open(path, "rb") as handle:
        header = handle.read(len(_SQLITE_HEADER))
    if header and header != _SQLITE_HEADER:
        raise LogError(f"{path}: not a luckytui event log (not an SQLite database)")
    return path


def existing_file(path: Path) -> Path:
    """An existing log, for reading only: create nothing, and say what a file that is not
    a log is (missing, empty, cut short, something else)."""
    path = path.expanduser()
    if not path.parent.is_dir():
        raise LogError(f"{path}: no such directory: {path.parent}")
    try:
        with open(path, "rb") as handle:
            header = handle.read(_SQLITE_HEADER_SIZE)
    except FileNotFoundError:
        raise LogError(f"{path}: no event log here (no such file)") from None
    except IsADirectoryError:
        raise LogError(f"{path}: is a directory, not an event log") from None
    if not header:
        raise LogError(f"{path}: an empty file, not a luckytui event log (truncated?)")
    if not header.startswith(_SQLITE_HEADER[: len(header)]) or len(header) < len(
            _SQLITE_HEADER):
        raise LogError(f"{path}: not a luckytui event log (not an SQLite database)")
    if len(header) < _SQLITE_HEADER_SIZE:
        raise LogError(f"{path}: damaged event log: truncated to {len(header)} bytes")
    return path


def rw_uri(path: Path) -> str:
    """An SQLite URI that opens `path` only if it exists (mode=rw never creates it)."""
    return f"file:{quote(str(path.resolve()))}?mode=rw"


def damage(path: Path, exc: sqlite3.Error, doing: str) -> LogError:
    code = getattr(exc, "sqlite_errorcode", None)
    if code == _SQLITE_NOTADB:
        return LogError(f"{path}: not a luckytui event log (not an SQLite database)")
    if isinstance(code, int) and code & 0xFF == _SQLITE_CORRUPT:
        return LogError(f"{path}: damaged event log (truncated or overwritten): "
                        f"{one_line(exc)}")
    return LogError(f"{path}: cannot {doing} the event log: {one_line(exc)}")


async def inspect(conn: aiosqlite.Connection) -> tuple[int, int, set[str]]:
    """Application id, schema version and tables, read in one statement (one snapshot)."""
    rows = list(
        await conn.execute_fetchall(
            "SELECT (SELECT application_id FROM pragma_application_id),"
            " (SELECT user_version FROM pragma_user_version),"
            " (SELECT group_concat(name, ' ') FROM sqlite_master WHERE type = 'table')"
        )
    )
    app_id, version, tables = rows[0]
    return int(app_id), int(version), set((tables or "").split())


def check_kind(path: Path, app_id: int, version: int, tables: set[str]) -> bool:
    """True when the database is empty and needs the schema; raise unless it is our log."""
    if app_id == 0 and version == 0 and not tables:
        return True
    if app_id != APPLICATION_ID:
        raise LogError(f"{path}: not a luckytui event log (an SQLite database of something else)")
    if version > SCHEMA_VERSION:
        raise LogError(
            f"{path}: event log schema {version} is newer than this luckytui understands "
            f"({SCHEMA_VERSION}); upgrade luckytui"
        )
    if version < 1 or not {"events", "head"} <= tables:
        raise LogError(f"{path}: damaged luckytui event log (its tables are missing)")
    return False


async def setup(conn: aiosqlite.Connection, path: Path) -> None:
    await conn.execute_fetchall(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if check_kind(path, *await inspect(conn)):
        await conn.execute_fetchall("PRAGMA journal_mode = WAL")
        await conn.execute_fetchall("BEGIN IMMEDIATE")
        try:
            # Another process may have created the schema while this one waited.
            if check_kind(path, *await inspect(conn)):
                # One statement at a time: executescript() would commit this transaction.
                for statement in split_sql(_SCHEMA):
                    await conn.execute_fetchall(statement)
                await conn.execute_fetchall(f"PRAGMA application_id = {APPLICATION_ID}")
                await conn.execute_fetchall(f"PRAGMA user_version = {SCHEMA_VERSION}")
            await conn.execute_fetchall("COMMIT")
        except BaseException:
            if conn.in_transaction:
                await conn.execute_fetchall("ROLLBACK")
            raise
    else:
        await conn.execute_fetchall("PRAGMA journal_mode = WAL")
    await conn.execute_fetchall("PRAGMA synchronous = NORMAL")


def split_sql(script: str) -> list[str]:
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements
