"""`python -m luckytui.sim.admin`: the simulated LuckyGas API's admin calls, for the
security drill's custom commands (`luckytui sim` writes them into its config.toml).

    python -m luckytui.sim.admin --dir DIR block-ip 203.0.113.45
    python -m luckytui.sim.admin --dir DIR rotate-secret

It logs in as the on-call account (DIR/login-password), then calls the API the
simulation serves (DIR/api-url). Standard library only: it starts in a blink.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

LOGIN_EMAIL = "oncall@luckygas.com.tw"


def _post(url: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        doc: dict[str, Any] = json.loads(answer.read())
    return doc


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="luckytui.sim.admin")
    p.add_argument("--dir", type=Path, required=True)
    sub = p.add_subparsers(dest="command", required=True)
    block = sub.add_parser("block-ip")
    block.add_argument("ip")
    sub.add_parser("rotate-secret")
    args = p.parse_args(argv)
    try:
        base = (args.dir / "api-url").read_text().strip()
        password = (args.dir / "login-password").read_text().strip()
        token = _post(f"{base}/api/v1/auth/login",
                      {"email": LOGIN_EMAIL, "password": password})["access_token"]
        if args.command == "block-ip":
            doc = _post(f"{base}/api/v1/admin/blocklist", {"ip": args.ip}, token)
            print(f"blocked {doc['ip']}" + ("" if doc.get("new") else " (already blocked)"))
        else:
            doc = _post(f"{base}/api/v1/admin/rotate-secret", {}, token)
            print(f"login secret rotated (version {doc['secret_version']})")
    except (OSError, KeyError, ValueError) as exc:
        detail = exc.read().decode(errors="replace")[:200] if isinstance(
            exc, urllib.error.HTTPError) else str(exc)
        print(f"luckytui.sim.admin: {args.command}: {detail}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
