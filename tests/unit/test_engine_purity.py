"""The engine knows nothing of Textual, and start-up imports stay light."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import luckytui

ROOT = Path(__file__).resolve().parents[2]


def engine_modules() -> list[str]:
    names = [m.name for m in pkgutil.walk_packages(luckytui.__path__, "luckytui.")]
    return sorted(n for n in names if n not in ("luckytui.app", "luckytui.__main__"))


def imported_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
        capture_output=True, text=True, cwd=ROOT, check=True,
    ).stdout
    return set(out.split())


def test_engine_imports_no_textual_and_no_ui_packages() -> None:
    modules = engine_modules()
    assert "luckytui.sim.model" in modules and "luckytui.cli" in modules
    loaded = imported_after("\n".join(f"import {m}" for m in modules))
    leaked = sorted(m for m in loaded if m.split(".")[0] in ("textual", "widgets", "screens"))
    assert leaked == [], f"the engine imported {leaked[:5]}"


def test_cli_import_defers_heavy_clients() -> None:
    loaded = imported_after("import luckytui.cli, luckytui.sources.factory")
    heavy = sorted({m.split(".")[0] for m in loaded} & {"kubernetes", "psycopg",
                                                        "prometheus_api_client", "textual"})
    assert heavy == []


def test_only_the_composition_root_imports_widgets_and_screens() -> None:
    offenders = []
    for path in (ROOT / "luckytui").rglob("*.py"):
        if path.name == "app.py" and path.parent.name == "luckytui":
            continue
        text = path.read_text()
        for line in text.splitlines():
            stripped = line.strip()
            if stripped.startswith(("import ", "from ")) and any(
                    f" {pkg}" in stripped.split(" import")[0] + " "
                    for pkg in ("textual", "widgets", "screens")):
                if path.name == "cli.py" and "luckytui.app" in stripped:
                    continue
                offenders.append(f"{path.relative_to(ROOT)}: {stripped}")
    assert offenders == []
