"""Secrets out of everything luckytui writes: the log, the debug log, exports, the screen.

The local log is append-only and hash-chained: a secret written once can never be
removed without breaking the chain. So redaction happens *before* anything is written,
in one place, and errs on the side of hiding: a value that might be a secret is shown as
``***``.

What is hidden:

- values under keys that name a secret (``password``, ``DB_PASSWORD``, ``api-key``,
  ``token``, ``client_secret``, ``Authorization``, ``cookie``...; not keys that only
  *name* one, such as ``password_env``, ``secret_name`` or ``token_file``);
- in any text: passwords in URLs (``postgresql://app:***@db/x``), long userinfo that is a
  token on its own (``https://***@github.com``), assignments and headers
  (``password=…``, ``password = '…'``, ``token: …``, ``aws_secret_access_key=…``,
  ``Authorization: Bearer …``), SQL role passwords (``PASSWORD '…'``, ``E'…'``,
  ``$$…$$`` and ``$tag$…$tag$``), command-line options (``--password …``,
  ``--token=…``, ``--from-literal=key=…``), bearer tokens, AWS access key ids,
  GitHub, GitLab, Slack and OpenAI-style tokens, JSON Web Tokens and PEM private keys.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REDACTED = "***"

_SECRET_WORDS = ("password", "passwd", "passphrase", "secret", "token", "authorization",
                 "authorisation", "apikey", "api_key", "private_key", "credential", "cookie",
                 "access_key")
# keys that name where a secret is, not the secret itself
_BENIGN_SUFFIXES = ("_name", "_names", "_ref", "_count", "_kind", "_type", "_file", "_path",
                    "_env", "_var", "_id_field")
_WORD = r"(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|access[_-]?key|" \
        r"private[_-]?key|credentials?)"
_VALUE = r"(?P<val>\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|[^\s&;,'\"}\]]+)"

_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE "
                  r"KEY-----|\Z)", re.DOTALL)
# scheme://user:password@host, and scheme://<a long token>@host
_URL_PASSWORD = re.compile(r"(?P<pre>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s/:@]*):[^\s@/]*@")
_URL_TOKEN = re.compile(r"(?P<pre>\b[A-Za-z][A-Za-z0-9+.\-]*://)[A-Za-z0-9._~\-]{20,}@")
# SQL: [ENCRYPTED] PASSWORD 'x' / E'x' / $$x$$ / $tag$x$tag$
_SQL_PASSWORD = re.compile(
    r"(?P<pre>\bPASSWORD\s+)(?:E?'(?:[^'\\]|\\.|'')*'|(?P<tag>\$[A-Za-z_0-9]*\$).*?(?P=tag))",
    re.IGNORECASE | re.DOTALL)
# command-line options: --password x, --password=x, --api-key x, --from-literal=key=x
_OPTION = re.compile(rf"(?P<pre>(?<![\w-])--?[\w-]*{_WORD}[\w-]*(?:=|\s+))(?!-)" + _VALUE,
                     re.IGNORECASE)
_FROM_LITERAL = re.compile(r"(?P<pre>--from-literal[=\s]+[^=\s]+=)(?P<val>\S+)",
                           re.IGNORECASE)
# assignments and headers: password=x, DB_PASSWORD = 'x', token: x, "secret": "x"
_ASSIGNED = re.compile(
    rf"(?P<pre>(?<![\w-])(?P<key>[\w.-]*{_WORD}[\w.-]*)[\"']?\s*(?:=|:)\s*)" + _VALUE,
    re.IGNORECASE)
_AUTH_HEADER = re.compile(
    r"(?P<pre>authori[sz]ation\s*[:=]\s*[\"']?(?:(?:bearer|basic|token|digest)\s+)?)"
    r"[^\s'\",;]+", re.IGNORECASE)
_BEARER = re.compile(r"(?P<pre>\b(?:bearer|basic)\s+)[A-Za-z0-9._~+/\-]{8,}=*",
                     re.IGNORECASE)
_TOKENS = re.compile(
    r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b"  # AWS access key ids
    r"|\bgh[pousr]_[A-Za-z0-9]{30,}\b|\bgithub_pat_[A-Za-z0-9_]{30,}\b"
    r"|\bglpat-[A-Za-z0-9_\-]{20,}\b|\bxox[abprs]-[A-Za-z0-9\-]{10,}\b"
    r"|\bsk-[A-Za-z0-9_\-]{20,}\b"
    r"|\beyJ[A-Za-z0-9_\-]{5,}\.eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]+")


def is_secret_key(key: str) -> bool:
    """True for a key whose value is a secret (``password``, ``DB_TOKEN``...), false for
    one that only names or points to a secret (``password_env``, ``secret_name``)."""
    name = key.lower().replace("-", "_").replace(" ", "_")
    if name.endswith(_BENIGN_SUFFIXES):
        return False
    if name in ("pass", "pwd", "auth") or name.endswith(("_pass", "_pwd")):
        return True
    return any(word in name for word in _SECRET_WORDS)


def _assigned(m: re.Match[str]) -> str:
    key = m.group("key").lower().replace("-", "_")
    if key.endswith(_BENIGN_SUFFIXES):
        return m.group(0)
    return m.group("pre") + _masked(m.group("val"))


def _option(m: re.Match[str]) -> str:
    name = m.group("pre").strip(" =").lower().replace("-", "_")
    if name.endswith(_BENIGN_SUFFIXES):
        return m.group(0)
    return m.group("pre") + _masked(m.group("val"))


def _masked(value: str) -> str:
    """``***``, keeping the quotes the value had (so SQL and JSON stay well-formed)."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return f"{value[0]}{REDACTED}{value[0]}"
    return REDACTED


def redact_text(text: str) -> str:
    """``text`` with every secret it shows hidden (see the module's list)."""
    if not text:
        return text
    if "PRIVATE KEY-----" in text:
        text = _PEM.sub(f"-----{REDACTED} PRIVATE KEY-----", text)
    if "://" in text:
        text = _URL_PASSWORD.sub(rf"\g<pre>:{REDACTED}@", text)
        text = _URL_TOKEN.sub(rf"\g<pre>{REDACTED}@", text)
    text = _SQL_PASSWORD.sub(rf"\g<pre>'{REDACTED}'", text)
    text = _FROM_LITERAL.sub(rf"\g<pre>{REDACTED}", text)
    text = _OPTION.sub(_option, text)
    text = _AUTH_HEADER.sub(rf"\g<pre>{REDACTED}", text)
    text = _BEARER.sub(rf"\g<pre>{REDACTED}", text)
    text = _ASSIGNED.sub(_assigned, text)
    return _TOKENS.sub(REDACTED, text)


def redact_value(value: Any) -> Any:
    """Strings redacted, mappings and sequences walked, anything else as it is."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return redact_data(value)
    if isinstance(value, list | tuple):
        if value and all(isinstance(item, str) for item in value):
            return redact_argv(value)  # a command line: the word after --password too
        return [redact_value(item) for item in value]
    return value


def redact_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``data`` with secrets replaced by ``***``, at any depth: the values of
    secret keys entirely, and every secret shape inside strings."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(key, str) and value is not None and is_secret_key(key):
            out[key] = REDACTED
        else:
            out[key] = redact_value(value)
    return out


def redact_argv(argv: Sequence[str]) -> list[str]:
    """A command line with secret option values and secret shapes hidden: the value after
    ``--password`` (a separate word) is hidden too."""
    out: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next and not arg.startswith("-"):
            out.append(REDACTED)
            hide_next = False
            continue
        hide_next = False
        if re.fullmatch(rf"--?[\w-]*{_WORD}[\w-]*", arg, re.IGNORECASE) and \
                not arg.lower().replace("-", "_").endswith(_BENIGN_SUFFIXES):
            hide_next = True
            out.append(arg)
            continue
        if arg.lower() == "--from-literal":
            out.append(arg)
            continue
        out.append(redact_text(arg))
    return out


def redact_url(url: str) -> str:
    """``url`` without credentials, query or fragment: what a timeline or a pane may show.
    ``https://u:pw@api.example/x?token=abc#f`` becomes ``https://api.example/x``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url.split("?", 1)[0].split("#", 1)[0].rpartition("@")[2])
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


_URL_IN_TEXT = re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>]+")


def redact_urls(text: str) -> str:
    """``text`` with every URL in it passed through :func:`redact_url`."""
    if "://" not in text:
        return text
    return _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)


class RedactingFormatter(logging.Formatter):
    """A log formatter whose every line (message, arguments, traceback) has its secrets
    hidden: the debug log is a file a colleague may be sent."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_text(super().format(record))


# libraries that log request bodies, SQL and its parameters at DEBUG: warnings only
QUIET_LOGGERS = ("aiosqlite", "psycopg", "urllib3", "kubernetes", "httpx", "httpcore",
                 "asyncio", "aiohttp", "hpack", "charset_normalizer", "requests",
                 "prometheus_api_client", "markdown_it")
