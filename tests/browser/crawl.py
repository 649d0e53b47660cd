"""Which pages of the site a logged-in person can reach by following links: same origin,
GET only, no logout, no downloads, no language switch. Pages of one shape (the same path
with other numbers, other query values, another campus) are visited once, and a shape
another role already visited is not visited again: axe checks templates, and the whole
browser suite has a time budget of about a minute."""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import parse_qsl, urlsplit

SKIPPED_PATHS = re.compile(
    r"(/logout|/api/|/static/|export|download|\.(csv|xlsx|json|pdf|zip|png|svg)$)", re.I
)
SKIPPED_QUERY = {"lang", "format"}
SAME_SHAPE_QUERY = {"campus"}  # another campus: the same template
PER_SHAPE = 1


def shape(path: str) -> str:
    """``/tutor/students/12?week=2026-W48&campus=c1`` → ``/tutor/students/N?week``."""
    parts = urlsplit(path)
    query = parse_qsl(parts.query, keep_blank_values=True)
    keys = sorted({key for key, _ in query if key not in SAME_SHAPE_QUERY})
    return re.sub(r"\d+", "N", parts.path) + ("?" + "&".join(keys) if keys else "")


def local_path(href: str, origin: str) -> str | None:
    """The path (with query) of a same-origin link worth visiting, else None."""
    parts = urlsplit(href)
    if parts.scheme not in ("http", "https") or f"{parts.scheme}://{parts.netloc}" != origin:
        return None
    if SKIPPED_PATHS.search(parts.path):
        return None
    if any(key in SKIPPED_QUERY for key, _ in parse_qsl(parts.query, keep_blank_values=True)):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


class Frontier:
    """Breadth first: the menu's pages come before the pages they link to."""

    def __init__(self, start: str, *, cap: int, done: set[str] | None = None) -> None:
        """``done``: shapes visited before (by another role), left out."""
        self.cap = cap
        self.done = done or set()
        self.queue = [start]
        self.seen = {start}
        self.shapes: Counter[str] = Counter({shape(start): 1})
        self.visited: list[str] = []

    def add(self, path: str) -> None:
        if path in self.seen or shape(path) in self.done or self.shapes[shape(path)] >= PER_SHAPE:
            return
        self.seen.add(path)
        self.shapes[shape(path)] += 1
        self.queue.append(path)

    def next(self) -> str | None:
        if not self.queue or len(self.visited) >= self.cap:
            return None
        path = self.queue.pop(0)
        self.visited.append(path)
        return path
