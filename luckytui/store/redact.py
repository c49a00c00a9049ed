"""Secrets out of what the event log stores: by key name, and inside every string."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

#: What a redacted secret is replaced with.
REDACTED = "***"

_BENIGN_SUFFIXES = ("_name", "_names", "_ref", "_count", "_kind", "_type", "_file", "_path")
_SECRET_WORDS = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "authorization",
    "authorisation",
    "apikey",
    "api_key",
    "private_key",
    "credential",
    "cookie",
)
_URL_PASSWORD = re.compile(r"(?P<pre>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s/:@]*):[^\s@/]+@")
_ASSIGNED_SECRET = re.compile(
    r"(?P<pre>(?:password|passwd|pwd|secret|token|api[_-]?key)\s*=\s*)"
    r"(?P<val>\"[^\"]*\"|'[^']*'|[^\s&;,'\"]+)",
    re.IGNORECASE,
)
_AUTH_HEADER = re.compile(
    r"(?P<pre>authori[sz]ation\s*[:=]\s*(?:(?:bearer|basic|token)\s+)?)[^\s'\",;]+",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(?P<pre>\bbearer\s+)[A-Za-z0-9._~+/\-]{8,}=*", re.IGNORECASE)


def _is_secret_key(key: str) -> bool:
    name = key.lower().replace("-", "_").replace(" ", "_")
    if name.endswith(_BENIGN_SUFFIXES):
        return False
    if name in ("pass", "pwd") or name.endswith(("_pass", "_pwd")):
        return True
    return any(word in name for word in _SECRET_WORDS)


def _scrub(text: str) -> str:
    if "://" in text:
        text = _URL_PASSWORD.sub(rf"\g<pre>:{REDACTED}@", text)
    text = _ASSIGNED_SECRET.sub(rf"\g<pre>{REDACTED}", text)
    text = _AUTH_HEADER.sub(rf"\g<pre>{REDACTED}", text)
    return _BEARER.sub(rf"\g<pre>{REDACTED}", text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return _scrub(value)
    if isinstance(value, Mapping):
        return redact(value)
    if isinstance(value, list | tuple):
        return [_redact_value(item) for item in value]
    return value


def redact(data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``data`` with secrets replaced by ``"***"``, at any depth.

    Values of keys that look like secrets (password, passwd, token, secret, authorization,
    api_key, credential, cookie, ...; not ``*_name``/``*_ref``-style keys that name one) are
    replaced; in every string, passwords inside URLs (``postgresql://u:pw@h/db`` →
    ``postgresql://u:***@h/db``), ``password=...``-style assignments and bearer tokens are.
    """
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(key, str) and value is not None and _is_secret_key(key):
            out[key] = REDACTED
        else:
            out[key] = _redact_value(value)
    return out
