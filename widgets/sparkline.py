"""Sparklines as plain strings of block characters.

A sparkline drawn as one string (and shown as one single-style ``Text``) costs
a fraction of the terminal bytes of a per-bar coloured one, and it only needs
redrawing when its data changes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

BARS = "▁▂▃▄▅▆▇█"
_LEVELS = len(BARS)


def spark_text(
    values: Sequence[float],
    width: int,
    *,
    lo: float | None = None,
    hi: float | None = None,
) -> str:
    """Draw ``values`` as a sparkline exactly ``width`` cells wide.

    The newest value (the last one) is on the right. Older values that do not
    fit are dropped; when there are fewer values than cells the line is padded
    with spaces on the left. ``lo`` defaults to 0 (or the smallest value when a
    value is negative) and ``hi`` to the largest value; values outside
    ``[lo, hi]`` are clamped. Values that are not finite are drawn as a space.
    """
    if width <= 0:
        return ""
    recent = list(values[-width:]) if len(values) > width else list(values)
    finite = [v for v in recent if math.isfinite(v)]
    if not finite:
        return " " * width
    low = min(0.0, min(finite)) if lo is None else lo
    high = max(finite) if hi is None else hi
    span = high - low
    chars: list[str] = []
    append = chars.append
    for value in recent:
        if not math.isfinite(value):
            append(" ")
        elif span <= 0:
            append(BARS[0] if value <= low else BARS[-1])
        else:
            level = int((value - low) / span * _LEVELS)
            append(BARS[min(_LEVELS - 1, max(0, level))])
    return " " * (width - len(chars)) + "".join(chars)
