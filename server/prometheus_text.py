"""The Prometheus text exposition format, version 0.0.4, written by hand (a few rules,
no dependency): one ``# HELP`` and one ``# TYPE`` line per family, then its samples
``name{label="value",...} value``; metric names ``[a-zA-Z_:][a-zA-Z0-9_:]*``, label
names ``[a-zA-Z_][a-zA-Z0-9_]*`` (not starting with ``__``); in label values ``\\``,
``"`` and line feeds escaped, in help texts ``\\`` and line feeds; values as Go floats
(``+Inf``, ``-Inf``, ``NaN``); the body ends with a line feed."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
TYPES = ("counter", "gauge", "untyped")
_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")


@dataclass
class Family:
    """One metric: ``name`` (a counter's ends in ``_total``), its type and help, and its
    samples (labels, value)."""

    name: str
    kind: str
    help: str
    samples: list[tuple[dict[str, str], float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"invalid metric name {self.name!r}")
        if self.kind not in TYPES:
            raise ValueError(f"invalid metric type {self.kind!r}")
        if self.kind == "counter" and not self.name.endswith("_total"):
            raise ValueError(f"a counter's name ends in _total: {self.name!r}")

    def add(self, value: float | None, **labels: str) -> None:
        """One sample; ``None`` (not known) adds nothing."""
        if value is None:
            return
        for name in labels:
            if not _LABEL.match(name) or name.startswith("__"):
                raise ValueError(f"invalid label name {name!r}")
        self.samples.append((labels, float(value)))


def render(families: Iterable[Family]) -> str:
    lines: list[str] = []
    seen: set[str] = set()
    for family in families:
        if family.name in seen:
            raise ValueError(f"metric {family.name!r} written twice")
        seen.add(family.name)
        lines.append(f"# HELP {family.name} {_escape_help(family.help)}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        for labels, value in family.samples:
            lines.append(f"{family.name}{_labels(labels)} {_value(value)}")
    return "\n".join(lines) + "\n"


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{name}="{_escape_value(str(value))}"' for name, value in labels.items())
    return "{" + inner + "}"


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _escape_value(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _value(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)
