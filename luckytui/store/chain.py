"""The event log's hash chain, its verification, and checkpoints that anchor it.

Every record carries the hash of the record before it::

    hash = sha256(prev_hash + canonical_json(record)).hexdigest()

What the chain proves alone: a record edited, removed or inserted inside the
chain breaks a link or a hash, and so does a tail cut without also rewinding
the separate head row. What it cannot prove alone: a tail cut together with the
head row, a copy rewound to an older state, or the whole chain recomputed after
an edit all leave a chain that verifies. A checkpoint kept elsewhere (the count
and the head's hash at some moment) catches those three: the log must still hold
that record, at that position, with that hash. Neither proves who wrote a record.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

#: ``prev_hash`` of the first record.
GENESIS_HASH = "0" * 64
CHECKPOINT_PREFIX = "luckytui-log-checkpoint"
_CHECKPOINT = re.compile(
    r"luckytui-log-checkpoint v1 count=(0|[1-9][0-9]{0,17}) head=sha256:([0-9a-f]{64})",
    re.ASCII,
)


def canonical(obj: Any) -> str:
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def record_hash(
    prev_hash: str,
    rec_id: int,
    ts: str,
    kind: str,
    actor: str,
    incident: str | None,
    dedupe: str | None,
    data: Any,
) -> str:
    body = canonical(
        {
            "actor": actor,
            "data": data,
            "dedupe": dedupe,
            "id": rec_id,
            "incident": incident,
            "kind": kind,
            "ts": ts,
        }
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The log's length and its newest record's hash at one moment, kept elsewhere."""

    count: int
    head: str  # hex sha256 of record `count` (GENESIS_HASH for an empty log)

    def line(self) -> str:
        return f"{CHECKPOINT_PREFIX} v1 count={self.count} head=sha256:{self.head}"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """The checkpoint line itself, or the path of a file holding it; ValueError
        says what is wrong."""
        line = text.strip()
        if not line.startswith(CHECKPOINT_PREFIX):
            try:
                content = Path(line).read_text(encoding="utf-8", errors="replace")
            except OSError as exc:
                raise ValueError(f"{line}: neither a checkpoint line nor a readable file "
                                 f"({exc.strerror or type(exc).__name__})") from None
            lines = [x.strip() for x in content[:4096].splitlines() if x.strip()]
            line = lines[0] if len(lines) == 1 else ""
        m = _CHECKPOINT.fullmatch(line)
        if m is None:
            raise ValueError("not a luckytui log checkpoint (expected one line: "
                             f"{CHECKPOINT_PREFIX} v1 count=N head=sha256:HEX)")
        return cls(int(m[1]), m[2])


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The outcome of recomputing the hash chain (and comparing it with a checkpoint)."""

    ok: bool
    #: Records checked and found sound (all of them when ``ok``).
    checked: int
    #: Id of the newest record present.
    last_id: int
    #: The first id where the chain breaks (a changed, missing or foreign record).
    first_bad_id: int | None = None
    reason: str | None = None
    #: The newest record's hash when the chain is sound.
    head_hash: str = GENESIS_HASH
    #: The checkpoint the log was compared with, if any.
    against: Checkpoint | None = None

    def __str__(self) -> str:
        return self.describe()

    def checkpoint(self) -> Checkpoint:
        return Checkpoint(self.last_id, self.head_hash)

    def describe(self) -> str:
        """One line for a person: intact with a count, or where and why it breaks."""
        if self.ok:
            tail = (f"; it holds checkpoint record {self.against.count} unchanged"
                    if self.against is not None else "")
            return f"event log intact: {self.checked} records, last id {self.last_id}{tail}"
        if self.first_bad_id is None:
            return f"event log does not match the checkpoint: {self.reason}"
        return f"event log broken at record {self.first_bad_id}: {self.reason}"


def _compare(result: VerifyResult, against: Checkpoint, seen: str | None) -> VerifyResult:
    """The sound chain's result held against a checkpoint."""
    n = against.count
    if result.last_id < n:
        reason = (f"it has {result.last_id} records, the checkpoint {n}: records were cut "
                  "from the end, or this is an older copy")
    elif (seen or GENESIS_HASH) != against.head:
        reason = (f"record {n} is not the one checkpointed: history was rewritten "
                  "(or rewound and appended to)")
    else:
        return VerifyResult(True, result.checked, result.last_id, head_hash=result.head_hash,
                            against=against)
    return VerifyResult(False, result.checked, result.last_id, None, reason,
                        result.head_hash, against)


async def verify_chain(
    conn: aiosqlite.Connection, against: Checkpoint | None = None
) -> VerifyResult:
    head = list(
        await conn.execute_fetchall("SELECT last_id, last_hash FROM head WHERE singleton = 1")
    )
    expected_id = 1
    prev = GENESIS_HASH
    checked = 0
    at = against.count if against is not None else None
    seen_at: str | None = None

    def broken(bad_id: int, reason: str, last: int) -> VerifyResult:
        return VerifyResult(
            ok=False, checked=checked, last_id=last, first_bad_id=bad_id, reason=reason
        )

    async with conn.execute(
        "SELECT id, ts, kind, actor, incident, data, dedupe, prev_hash, hash "
        "FROM events ORDER BY id"
    ) as cursor:
        async for row in cursor:
            rec_id, ts, kind, actor, incident, data_text, dedupe, prev_hash, digest = row
            if rec_id != expected_id:
                return broken(expected_id, f"record {expected_id} is missing", rec_id)
            if prev_hash != prev:
                return broken(rec_id, "it does not link to the record before it", rec_id)
            try:
                data = json.loads(data_text)
            except (TypeError, ValueError):
                return broken(rec_id, "its data is not valid JSON", rec_id)
            if not isinstance(data_text, str) or canonical(data) != data_text:
                return broken(rec_id, "its stored data was rewritten", rec_id)
            recomputed = record_hash(prev, rec_id, ts, kind, actor, incident, dedupe, data)
            if recomputed != digest:
                return broken(rec_id, "its content does not match its hash", rec_id)
            prev = digest
            if rec_id == at:
                seen_at = digest
            expected_id += 1
            checked += 1
    last = expected_id - 1
    if not head:
        return broken(last + 1, "the chain head is missing", last)
    head_id, head_hash = int(head[0][0]), head[0][1]
    if head_id > last:
        missing = f"{last + 1}" if head_id == last + 1 else f"{last + 1}-{head_id}"
        return broken(last + 1, f"records {missing} are missing from the end", last)
    if head_id < last:
        return broken(head_id + 1, "it was added outside the chain", last)
    if head_hash != prev:
        return broken(max(last, 1), "the chain head does not match the last record", last)
    result = VerifyResult(ok=True, checked=checked, last_id=last, head_hash=prev)
    return result if against is None else _compare(result, against, seen_at)
