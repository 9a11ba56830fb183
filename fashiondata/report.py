"""Report: what a run read, wrote, skipped and changed, with reasons. Nothing is silent.

Every verb returns a :class:`Report`; the CLI prints it as a summary on stderr, or as JSON with
``--json``. Reports merge associatively, so workers can fill partial reports.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any, Literal

Severity = Literal["info", "warning", "error"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "error")
MAX_LISTED = 1000  # skipped items listed by name; beyond this only counted


@dataclasses.dataclass(frozen=True)
class Finding:
    """One result of a check: a code (``polygon-degenerate``), a severity and where it is."""

    code: str
    severity: Severity
    message: str
    file: str | None = None
    image: str | None = None
    annotation: int | None = None
    location: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


@dataclasses.dataclass
class Report:
    """Counts read, written, skipped and lossy (reason → count), outputs, notes and findings."""

    read: Counter[str] = dataclasses.field(default_factory=Counter)
    written: Counter[str] = dataclasses.field(default_factory=Counter)
    skipped: Counter[str] = dataclasses.field(default_factory=Counter)
    lossy: Counter[str] = dataclasses.field(default_factory=Counter)
    skipped_items: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    outputs: list[str] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    findings: list[Finding] = dataclasses.field(default_factory=list)
    data: dict[str, Any] = dataclasses.field(default_factory=dict)

    def skip(self, reason: str, item: str | None = None, count: int = 1) -> None:
        """Count ``count`` items skipped for ``reason``; name the item when given."""
        self.skipped[reason] += count
        if item is not None and len(self.skipped_items) < MAX_LISTED:
            self.skipped_items.append((item, reason))

    def lose(self, reason: str, count: int = 1) -> None:
        """Count a lossy change (a documented transform applied because a writer cannot hold it)."""
        self.lossy[reason] += count

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def merge(self, other: Report) -> Report:
        """Add another report's counts into this one (associative); returns self."""
        self.read.update(other.read)
        self.written.update(other.written)
        self.skipped.update(other.skipped)
        self.lossy.update(other.lossy)
        room = MAX_LISTED - len(self.skipped_items)
        self.skipped_items.extend(other.skipped_items[: max(room, 0)])
        self.outputs.extend(o for o in other.outputs if o not in self.outputs)
        for text in other.notes:
            self.note(text)
        self.findings.extend(other.findings)
        self.data.update(other.data)
        return self

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with sorted keys inside each count table."""
        return {
            "read": dict(sorted(self.read.items())),
            "written": dict(sorted(self.written.items())),
            "skipped": dict(sorted(self.skipped.items())),
            "lossy": dict(sorted(self.lossy.items())),
            "skipped_items": [{"item": i, "reason": r} for i, r in self.skipped_items],
            "outputs": list(self.outputs),
            "notes": list(self.notes),
            "findings": [f.to_dict() for f in self.findings],
            **self.data,
        }

    def summary_lines(self) -> list[str]:
        """Human-readable summary, one fact per line."""
        lines: list[str] = []
        for title, table in (("read", self.read), ("written", self.written)):
            if table:
                lines.append(f"{title}: " + ", ".join(f"{n} {what}" for what, n in sorted(table.items())))
        for title, table in (("skipped", self.skipped), ("lossy", self.lossy)):
            for reason, n in sorted(table.items()):
                lines.append(f"{title}: {n} × {reason}")
        for item, reason in self.skipped_items[:20]:
            lines.append(f"  skipped {item}: {reason}")
        if len(self.skipped_items) > 20:
            lines.append(f"  … {len(self.skipped_items) - 20} more skipped items (see --json)")
        counts = Counter(f.severity for f in self.findings)
        if self.findings:
            lines.append("findings: " + ", ".join(f"{counts[s]} {s}" for s in SEVERITIES if counts[s]))
        lines.extend(f"note: {text}" for text in self.notes)
        lines.extend(f"output: {path}" for path in self.outputs)
        return lines
