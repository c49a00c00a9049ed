"""The local, append-only, hash-chained event log."""

from luckytui.store.log import (
    GENESIS_HASH,
    REDACTED,
    SCHEMA_VERSION,
    Checkpoint,
    EventLog,
    LogError,
    LogRecord,
    VerifyResult,
    default_log_path,
    redact,
)

__all__ = [
    "GENESIS_HASH",
    "REDACTED",
    "SCHEMA_VERSION",
    "Checkpoint",
    "EventLog",
    "LogError",
    "LogRecord",
    "VerifyResult",
    "default_log_path",
    "redact",
]
