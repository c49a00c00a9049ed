"""Settings: what luckytui watches, read from TOML and overridden by flags.

Everything is a frozen dataclass, validated once at start-up. A bad file is
reported as one `ConfigError` line naming the file, the key and the problem.
Secrets are never written inline: a password is referenced by the name of an
environment variable (`password_env`) or a file (`password_file`).
"""

from __future__ import annotations

import math
import os
import re
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from luckytui.configread import MAX_NAME as MAX_NAME
from luckytui.configread import ConfigError as ConfigError
from luckytui.configread import Reader as _Reader
from luckytui.configread import read_keys
from luckytui.mitigations.custom import CustomCommand, parse_custom_commands

PANES = ("pods", "db", "slow", "endpoints", "alerts", "timeline")
MAX_ENDPOINT_TIMEOUT_S = 300.0


@dataclass(frozen=True, slots=True)
class KubeSettings:
    """Where the cluster is: kubectl's kubeconfig, context and namespace."""

    kubeconfig: str | None = None  # None: $KUBECONFIG or ~/.kube/config
    context: str | None = None  # None: the kubeconfig's current context
    namespace: str = "luckygas"


@dataclass(frozen=True, slots=True)
class PrometheusSettings:
    url: str  # base URL, e.g. http://prometheus:9090
    # PromQL giving one series per pod (label `pod`) in cores; `$namespace` is filled in.
    # None: sum by (pod) (rate(container_cpu_usage_seconds_total{...}[2m]))
    cpu_query: str | None = None


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    name: str  # the name shown on screen
    # an HTTP API serving the database's activity instead of libpq (a twin the
    # composition root registers); `sim_url` is accepted for it in the file
    api_url: str | None = None
    dsn: str | None = None  # libpq connection string, without a password


@dataclass(frozen=True, slots=True)
class LoginSettings:
    """The plan's login flow: POST credentials, use the bearer token after."""

    url: str
    email: str
    password_env: str | None = None
    password_file: str | None = None

    def password(self) -> str:
        """Resolve the referenced secret; the error never contains the secret."""
        if self.password_env:
            value = os.environ.get(self.password_env)
            if value is None:
                raise ConfigError(
                    f"login: environment variable {self.password_env} is not set"
                )
            return value
        if self.password_file:
            try:
                return Path(self.password_file).read_text().strip()
            except OSError as exc:
                raise ConfigError(
                    f"login: cannot read password_file {self.password_file}: {exc.strerror}"
                ) from None
        raise ConfigError("login: set password_env or password_file")


@dataclass(frozen=True, slots=True)
class EndpointSettings:
    name: str
    url: str
    group: str = "api"
    method: str = "GET"
    expect_status: tuple[int, ...] = (200,)
    auth: bool = False  # needs the login flow's bearer token
    timeout: float = 5.0
    slow_ms: float = 2000.0
    verify_tls: bool = True
    body: Mapping[str, Any] | None = None


# What customers call each part of the service, for the Chinese customer notice: by
# endpoint "group/name", endpoint name or group, alert name or component (deployment).
# The config's [customer_names] adds to these and overrides them.
CUSTOMER_NAMES: Mapping[str, str] = {
    "site": "網站", "health": "網站", "luckygas-frontend": "網站",
    "login": "會員登入", "auth": "會員登入",
    "orders": "線上訂購", "order-worker": "線上訂購", "NoOrdersProcessed": "線上訂購",
    "analytics": "數據分析報表", "executive": "經營數據報表", "operations": "營運數據報表",
    "financial": "財務數據報表", "performance": "績效數據報表",
    "analytics-aggregation": "數據分析報表", "AnalyticsEndpointDown": "數據分析報表",
    "api": "線上服務", "luckygas-backend": "線上服務", "HighAPIResponseTime": "線上服務",
    "DatabaseConnectionPoolExhausted": "線上服務", "luckygas_prod": "線上服務",
    "payments": "付款", "deliveries": "配送", "customers": "客戶資料",
    "google-maps": "地圖與配送路線",
}
CUSTOMER_NAME_MAX = 40


@dataclass(frozen=True, slots=True)
class LimitSettings:
    """Hard ceilings from the `[limits]` table: no command-line flag lifts them."""

    max_replicas: int = 50  # no remedy scales a deployment beyond this, --force or not
    max_body_mib: float = 8.0  # an API answer (Kubernetes, Prometheus, database), decoded
    max_probe_kib: float = 1024.0  # an endpoint probe's or the login's answer, decoded
    max_answer_s: float = 10.0  # one answer, from sending the request to its last byte

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mib * 1024 * 1024)

    @property
    def max_probe_bytes(self) -> int:
        return int(self.max_probe_kib * 1024)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything one luckytui process needs to know, resolved and validated."""

    source_file: str | None = None
    refresh: float = 2.0
    log: str | None = None
    read_only: bool = False
    max_replicas: int = 20  # scaling beyond this needs --force (and stays within limits)
    limits: LimitSettings = field(default_factory=LimitSettings)
    runbooks: str | None = None  # a TOML file of runbooks instead of the plan's
    cache_url: str | None = None  # redis://host:port/db for the plan's FLUSHALL
    commands: tuple[CustomCommand, ...] = ()  # the plan's scripts, run without a shell
    # the plan's "scale up everything" step: deployment -> replicas
    emergency_scale: Mapping[str, int] = field(default_factory=lambda: {
        "luckygas-backend": 10, "luckygas-frontend": 5})
    utc: bool = False
    panes: tuple[str, ...] = PANES
    kube: KubeSettings | None = None
    prometheus: PrometheusSettings | None = None
    databases: tuple[DatabaseSettings, ...] = ()
    login: LoginSettings | None = None
    endpoints: tuple[EndpointSettings, ...] = field(default_factory=tuple)
    # the customer notice's names for components (CUSTOMER_NAMES with [customer_names])
    customer_names: Mapping[str, str] = field(default_factory=lambda: dict(CUSTOMER_NAMES))
    # [replay] max_mib: the recorded frames beyond this lose their oldest first
    replay_max_mib: float = 64.0
    keys: Mapping[str, str] = field(default_factory=dict)  # [keys]: binding id -> "key,key"
    theme: str | None = None  # one of Textual's built-in themes (the app checks the name)

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with the flags that were given (None means not given)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _url(r: _Reader, key: str, *, required: bool = True) -> str | None:
    value: str | None = r.get(key, str, required=required)
    if value is None:
        return None
    if not value.startswith(("http://", "https://")):
        raise r.fail(key, f"must be an http:// or https:// URL, not {value!r}")
    if "@" in value.split("//", 1)[1].split("/", 1)[0]:
        raise r.fail(key, "credentials in a URL are not allowed; use password_env")
    problem = url_problem(value)
    if problem:
        raise r.fail(key, problem)
    return value


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be requested (no host, a bad port, spaces), or None."""
    if any(c.isspace() for c in url):
        return "has a space in it (encode it as %20)"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"is not a valid URL ({exc})"
    if not parts.hostname:
        return "has no host"
    if port == 0:
        return "has port 0"
    return None


def parse_settings(data: Mapping[str, Any], where: str) -> Settings:
    """Validate a parsed TOML document into Settings."""
    top = _Reader(where, data)
    top.check_keys({"refresh", "log", "read_only", "utc", "panes", "kubernetes", "prometheus",
                    "databases", "login", "endpoints", "max_replicas", "emergency_scale",
                    "runbooks", "cache", "commands", "limits", "customer_names", "replay",
                    "keys", "theme"})
    refresh = top.number("refresh", 2.0, 0.2, 3600, unit=" seconds")
    kube = None
    if "kubernetes" in data:
        k = _Reader(where, top.get("kubernetes", dict), "kubernetes.")
        k.check_keys({"kubeconfig", "context", "namespace"})
        kube = KubeSettings(k.get("kubeconfig", str), k.name("context"),
                            k.name("namespace", "luckygas"))
    prom = None
    if "prometheus" in data:
        p = _Reader(where, top.get("prometheus", dict), "prometheus.")
        p.check_keys({"url", "cpu_query"})
        prom = PrometheusSettings(str(_url(p, "url")), p.get("cpu_query", str))
    dbs = []
    for i, table in enumerate(top.get("databases", list, [])):
        if not isinstance(table, dict):
            raise top.fail(f"databases[{i}]", "must be a table ([[databases]])")
        d = _Reader(where, table, f"databases[{i}].")
        d.check_keys({"name", "api_url", "sim_url", "dsn"})
        if "api_url" in table and "sim_url" in table:
            raise d.fail("sim_url", "is another name for api_url; give one of them")
        dsn = d.get("dsn", str)
        if dsn and _dsn_has_password(dsn):
            raise d.fail("dsn", "has a password in it; use ~/.pgpass or PGPASSWORD instead")
        api_url = _url(d, "sim_url" if "sim_url" in table else "api_url", required=False)
        db = DatabaseSettings(d.name("name", required=True), api_url, dsn)
        if not db.api_url and not db.dsn:
            raise d.fail("dsn", "is required (or api_url for a database served over HTTP)")
        dbs.append(db)
    login = None
    if "login" in data:
        lg = _Reader(where, top.get("login", dict), "login.")
        lg.check_keys({"url", "email", "password_env", "password_file"})
        login = LoginSettings(str(_url(lg, "url")), lg.name("email", required=True),
                              lg.get("password_env", str), lg.get("password_file", str))
        if not login.password_env and not login.password_file:
            raise lg.fail("password_env", "is required (or password_file)")
    endpoints = []
    names: set[str] = set()
    for i, table in enumerate(top.get("endpoints", list, [])):
        if not isinstance(table, dict):
            raise top.fail(f"endpoints[{i}]", "must be a table ([[endpoints]])")
        e = _Reader(where, table, f"endpoints[{i}].")
        e.check_keys({"name", "url", "group", "method", "expect_status", "auth", "timeout",
                      "slow_ms", "verify_tls", "body"})
        method = e.get("method", str, "GET").upper()
        if method not in ("GET", "POST", "HEAD", "PUT"):
            raise e.fail("method", f"must be GET, POST, HEAD or PUT, not {method}")
        expect = e.get("expect_status", (int, list), [200])
        expect = [expect] if isinstance(expect, int) else expect
        if not expect or not all(isinstance(s, int) and 100 <= s <= 599 for s in expect):
            raise e.fail("expect_status", "must be HTTP status codes (100-599)")
        ep = EndpointSettings(
            name=e.name("name", required=True), url=str(_url(e, "url")),
            group=e.name("group", "api"), method=method, expect_status=tuple(expect),
            auth=e.get("auth", bool, False),
            timeout=e.number("timeout", 5.0, 0, MAX_ENDPOINT_TIMEOUT_S, low_open=True,
                             unit=" seconds"),
            slow_ms=e.number("slow_ms", 2000.0, 0, 600_000, low_open=True, unit=" ms"),
            verify_tls=e.get("verify_tls", bool, True), body=_json_body(e, "body"))
        if ep.name in names:
            raise e.fail("name", f"{ep.name!r} is used twice")
        if ep.auth and login is None:
            raise e.fail("auth", "needs a [login] table")
        names.add(ep.name)
        endpoints.append(ep)
    panes = parse_panes(top.get("panes", (str, list), list(PANES)), where + ": panes")
    return Settings(
        source_file=where, refresh=refresh, log=top.get("log", str),
        read_only=top.get("read_only", bool, False), utc=top.get("utc", bool, False),
        max_replicas=_max_replicas(top), limits=_limits(top), emergency_scale=_emergency(top),
        runbooks=top.get("runbooks", str), cache_url=_cache_url(top),
        commands=parse_custom_commands(data.get("commands"), where),
        panes=panes, kube=kube, prometheus=prom, databases=tuple(dbs), login=login,
        endpoints=tuple(endpoints), customer_names=_customer_names(top),
        replay_max_mib=_replay_max_mib(top), keys=read_keys(top), theme=top.name("theme"))


def _replay_max_mib(top: _Reader) -> float:
    """[replay] max_mib: how much the incidents' recorded frames may hold."""
    table = top.get("replay", dict)
    if table is None:
        return 64.0
    r = _Reader(top.where, table, "replay.")
    r.check_keys({"max_mib"})
    return r.number("max_mib", 64.0, 1, 1024 * 1024, unit=" MiB")


def _customer_names(top: _Reader) -> dict[str, str]:
    """[customer_names]: component (endpoint group/name, name or group, alert, deployment)
    = what customers call it, one line; added to the defaults, overriding them."""
    table = top.get("customer_names", dict)
    names = dict(CUSTOMER_NAMES)
    for key, value in (table or {}).items():
        if not isinstance(value, str) or not value.strip():
            raise top.fail(f"customer_names.{key}", "must be a name customers know (text)")
        if "\n" in value or "\r" in value or len(value) > CUSTOMER_NAME_MAX:
            raise top.fail(f"customer_names.{key}",
                           f"must be one line of at most {CUSTOMER_NAME_MAX} characters")
        names[str(key)] = value.strip()
    return names


def _json_body(r: _Reader, key: str) -> dict[str, Any] | None:
    """A request body from the config: what JSON can carry (no dates, no NaN), a few
    levels deep."""
    body: dict[str, Any] | None = r.get(key, dict)
    if body is None:
        return None

    def check(value: Any, depth: int) -> str | None:
        if depth > 8:
            return "is nested more than 8 levels deep"
        if isinstance(value, dict):
            return next((p for v in value.values() if (p := check(v, depth + 1))), None)
        if isinstance(value, list):
            return next((p for v in value if (p := check(v, depth + 1))), None)
        if isinstance(value, float) and not math.isfinite(value):
            return "holds a number JSON cannot carry (inf or nan)"
        if value is None or isinstance(value, str | int | float | bool):
            return None
        return f"holds a {type(value).__name__}, which JSON cannot carry (quote it)"

    problem = check(body, 0)
    if problem:
        raise r.fail(key, problem)
    return body


def _cache_url(top: _Reader) -> str | None:
    table = top.get("cache", dict)
    if table is None:
        return None
    c = _Reader(top.where, table, "cache.")
    c.check_keys({"url"})
    url: str = c.get("url", str, required=True)
    if not url.startswith(("redis://", "rediss://")):
        raise c.fail("url", f"must be a redis:// or rediss:// URL, not {url!r}")
    netloc = url.split("//", 1)[1].split("/", 1)[0]
    if "@" in netloc and ":" in netloc.split("@", 1)[0]:
        raise c.fail("url", "has a password in it; set REDISCLI_AUTH instead")
    return url


def _emergency(top: _Reader) -> dict[str, int]:
    table = top.get("emergency_scale", dict)
    if table is None:
        return dict(Settings().emergency_scale)
    limit = _max_replicas(top)
    for name, replicas in table.items():
        if not isinstance(replicas, int) or isinstance(replicas, bool) or not (
                0 <= replicas <= limit):
            raise top.fail(f"emergency_scale.{name}",
                           f"must be a replica count between 0 and {limit}")
    return dict(table)


def _max_replicas(top: _Reader) -> int:
    value: int = top.get("max_replicas", int, 20)
    ceiling = _limits(top).max_replicas
    if not 1 <= value <= ceiling:
        raise top.fail("max_replicas", f"must be between 1 and {ceiling} ([limits] "
                       "max_replicas, the ceiling no flag lifts)")
    return value


# [limits]: the hard ceilings, each a number within sane bounds
_LIMITS: dict[str, tuple[type, float, float]] = {
    "max_replicas": (int, 1, 10000), "max_body_mib": (float, 0.001, 1024),
    "max_probe_kib": (float, 1, 1024 * 1024), "max_answer_s": (float, 0.5, 3600)}


def _limits(top: _Reader) -> LimitSettings:
    table = top.get("limits", dict)
    if table is None:
        return LimitSettings()
    r = _Reader(top.where, table, "limits.")
    r.check_keys(set(_LIMITS))
    values: dict[str, Any] = {}
    for key, (kind, low, high) in _LIMITS.items():
        value = r.get(key, kind)
        if value is None:
            continue
        if not low <= value <= high:  # a TOML float may also be nan or inf: refused here
            raise r.fail(key, f"must be between {low:g} and {high:g}")
        values[key] = value
    return LimitSettings(**values)


_DSN_PASSWORD = re.compile(r"(?:^|\s)password\s*=|[?&]password=", re.IGNORECASE)


def _dsn_has_password(dsn: str) -> bool:
    """A password in a libpq DSN: ``password = x`` (any spacing), ``?password=``, or a URL's
    ``user:password@``."""
    if _DSN_PASSWORD.search(dsn):
        return True
    if "://" not in dsn:
        return False
    netloc = dsn.split("://", 1)[1].split("/", 1)[0]
    return "@" in netloc and ":" in netloc.split("@", 1)[0]


def parse_panes(value: str | list[str], where: str = "--panes") -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not all(isinstance(p, str) for p in items):
        raise ConfigError(f"{where}: pane names are strings (choose from {','.join(PANES)})")
    panes = tuple(p.strip() for p in items if p.strip())
    unknown = [p for p in panes if p not in PANES]
    if unknown or not panes:
        raise ConfigError(f"{where}: unknown pane {', '.join(unknown) or '(none given)'}"
                          f" (choose from {','.join(PANES)})")
    return panes


def dsn_database(dsn: str) -> str:
    """The database a libpq DSN names (URL or key=value form), for labels only."""
    if "://" in dsn:
        path = dsn.split("://", 1)[1].split("?", 1)[0]
        name = path.split("/", 1)[1] if "/" in path else ""
    else:
        pairs = dict(p.split("=", 1) for p in dsn.split() if "=" in p)
        name = pairs.get("dbname", "") or pairs.get("service", "")
    return name or os.environ.get("PGDATABASE", "") or "postgres"


def _flag_url(flag: str, value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ConfigError(f"{flag}: must be an http:// or https:// URL, not {value!r}")
    if "@" in value.split("//", 1)[1].split("/", 1)[0]:
        raise ConfigError(f"{flag}: credentials in a URL are not allowed")
    problem = url_problem(value)
    if problem:
        raise ConfigError(f"{flag}: {problem}")
    return value


def apply_overrides(
    settings: Settings,
    *,
    context: str | None = None,
    namespace: str | None = None,
    prometheus: str | None = None,
    dsns: list[str] | None = None,
    endpoints: list[str] | None = None,
) -> Settings:
    """The command line's connection flags over a config: each one given replaces its part."""
    changes: dict[str, Any] = {}
    if context is not None or namespace is not None:
        kube = settings.kube or KubeSettings()
        changes["kube"] = replace(kube, context=context or kube.context,
                                  namespace=namespace or kube.namespace)
    if prometheus is not None:
        changes["prometheus"] = PrometheusSettings(_flag_url("--prometheus", prometheus))
    if dsns:
        for dsn in dsns:
            if _dsn_has_password(dsn):
                raise ConfigError("--dsn: has a password in it; use ~/.pgpass or PGPASSWORD")
        changes["databases"] = tuple(DatabaseSettings(dsn_database(d), dsn=d) for d in dsns)
    if endpoints:
        eps = []
        for url in endpoints:
            _flag_url("--endpoint", url)
            name = url.split("://", 1)[1].split("?", 1)[0].rstrip("/") or url
            eps.append(EndpointSettings(name=name, url=url))
        changes["endpoints"] = tuple(eps)
    return replace(settings, **changes) if changes else settings


MAX_CONFIG_BYTES = 1024 * 1024  # a config is a few KB; anything bigger is a mistake


def read_config_bytes(path: str | Path, limit: int = MAX_CONFIG_BYTES) -> bytes:
    """The bytes of a config file: a regular file of at most ``limit`` bytes. A FIFO, a
    device (/dev/zero) or a directory is refused at once, never read or waited on."""
    where = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ConfigError(f"{where}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ConfigError(f"{where}: is a directory, not a config file")
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"{where}: not a regular file (a pipe or a device?)")
        if info.st_size > limit:
            raise ConfigError(f"{where}: {info.st_size:,} bytes; a config file is at most "
                              f"{limit:,}")
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise ConfigError(f"{where}: more than {limit:,} bytes; a config file is at most that")
    return data


def parse_config_text(data: bytes, where: str) -> dict[str, Any]:
    """TOML from bytes, every failure one ConfigError line."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{where}: not UTF-8 text (byte {exc.start:,} is "
                          f"0x{data[exc.start]:02x})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise ConfigError(f"{where}: not valid TOML: nested too deeply") from None


def load_settings(path: str | Path) -> Settings:
    """Read and validate one config file."""
    where = str(path)
    return parse_settings(parse_config_text(read_config_bytes(path), where), where)


def default_config_path() -> Path:
    from platformdirs import user_config_path

    return user_config_path("luckytui") / "config.toml"


def describe_settings(settings: Settings) -> str:
    """What luckytui will connect to, for `luckytui config check`; never a secret."""
    lines = [f"config: {settings.source_file or '(flags only)'} is valid",
             f"refresh: every {settings.refresh:g} s"]
    k = settings.kube
    if k is None:
        lines.append("kubernetes: not configured")
    else:
        where = k.kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
        lines.append(f"kubernetes: context {k.context or '(current)'} from {where}, "
                     f"namespace {k.namespace}")
    lines.append(f"prometheus: {settings.prometheus.url}" if settings.prometheus
                 else "prometheus: not configured (pod CPU from metrics.k8s.io, no alerts)")
    if not settings.databases:
        lines.append("postgresql: not configured")
    for db in settings.databases:
        if db.dsn:
            lines.append(f"postgresql {db.name}: {db.dsn} (password, if any, from "
                         f"PGPASSWORD, ~/.pgpass or a service file)")
        else:
            lines.append(f"postgresql {db.name}: served over HTTP at {db.api_url}")
    if settings.login is not None:
        lg = settings.login
        if lg.password_env:
            state = "set" if lg.password_env in os.environ else "NOT SET"
            source = f"${lg.password_env} ({state})"
        else:
            readable = lg.password_file and os.access(lg.password_file, os.R_OK)
            source = f"file {lg.password_file} ({'readable' if readable else 'NOT READABLE'})"
        lines.append(f"login: POST {lg.url} as {lg.email}, password from {source}")
    if not settings.endpoints:
        lines.append("endpoints: none")
    for e in settings.endpoints:
        extra = " with the login token" if e.auth else ""
        tls = "" if e.verify_tls or not e.url.startswith("https") else " (TLS NOT verified)"
        lines.append(f"endpoint {e.group}/{e.name}: {e.method} {e.url}{extra}, expect "
                     f"{'/'.join(map(str, e.expect_status))} within {e.timeout:g} s{tls}")
    lim = settings.limits
    lines.append(f"limits: at most {lim.max_replicas} replicas; answers up to "
                 f"{lim.max_body_mib:g} MiB (probes {lim.max_probe_kib:g} KiB), "
                 f"complete within {lim.max_answer_s:g} s")
    lines.append(f"log: {settings.log or '(default place)'}"
                 + ("; read-only: no action will be offered" if settings.read_only else ""))
    return "\n".join(lines)
