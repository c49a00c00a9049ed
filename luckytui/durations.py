"""One duration formatter, in the few styles the screens, timeline and reports use.

- "age" (panes, banner): 4s · 2m 05s · 1h 03m · 2d 04h
- "span" (timeline lines): 45s · 3m · 3m 10s · 2h 05m · 1d 03h (rounded)
- "mtt" (MTTA/MTTR in reports): 0m 45s · 4m 05s · 1h 02m · 2d 03h
- "kube" (pod ages, as kubectl's): 45s · 12m · 3h05m · 5d03h
- "clock" (countdowns, never a time of day): 12:03 · 1:02:03 · -4:10
- "elapsed" (an incident's age on the banner): 00:12:34 · 27:03:00
- "window" (the plan's SLA windows): 15 min · 2 h · 24 h
"""

from __future__ import annotations

from typing import Literal

Style = Literal["age", "span", "mtt", "kube", "clock", "elapsed", "window"]


def format_duration(seconds: float | None, style: Style = "age") -> str:
    """``seconds`` as ``style`` writes it (see the module's docstring); an em dash
    when there is no value."""
    if seconds is None:
        return "—"
    if style == "clock":
        sign = "-" if seconds < 0 else ""
        s = int(abs(seconds))
        h, m, sec = s // 3600, s % 3600 // 60, s % 60
        return f"{sign}{h}:{m:02d}:{sec:02d}" if h else f"{sign}{m}:{sec:02d}"
    s = max(0, round(seconds) if style == "span" else int(seconds))
    if style == "elapsed":
        return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"
    if style == "window":
        return f"{s // 3600} h" if s >= 3600 else f"{s // 60} min"
    if s < 60 and style != "mtt":
        return f"{s}s"
    if s < 3600:
        minutes, secs = divmod(s, 60)
        if style == "kube" or (style == "span" and not secs):
            return f"{minutes}m"
        return f"{minutes}m {secs:02d}s"
    sep = "" if style == "kube" else " "
    if s < 86400:
        return f"{s // 3600}h{sep}{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{sep}{s % 86400 // 3600:02d}h"
