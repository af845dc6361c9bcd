"""Figures of one benchmark run: printed for people, written to ``var/bench/NAME.json``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

import msgspec

Figures = Mapping[str, float | int]
Benchmark = Callable[[], Awaitable[Figures]]

REPORT_DIR = Path("var/bench")


def write(name: str, figures: Figures, directory: Path = REPORT_DIR) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    path.write_bytes(msgspec.json.format(msgspec.json.encode({"name": name, **figures})) + b"\n")
    return path


def summary(figures: Figures) -> str:
    return "  ".join(f"{key}={_show(value)}" for key, value in figures.items())


def _show(value: float | int) -> str:
    return f"{value:.3g}" if isinstance(value, float) and abs(value) < 100 else f"{value:.0f}"
