"""The table `make fault` prints: one row per fault, what was acknowledged and what a reader
found afterwards."""

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from fault_load import Audit, FaultRun


@dataclass(frozen=True)
class FaultRow:
    fault: str
    acknowledged: int
    lost: int
    duplicated: int
    republished: int
    answered_503: int
    unexpected: int
    """5xx other than 503, 503 without Retry-After, requests that hung."""
    down_seconds: float
    """From the fault until the failed piece answered again."""
    ready_again_seconds: float
    """From the piece's return until every service reported ready."""

    @classmethod
    def of(cls, fault: str, run: FaultRun, audit: Audit) -> "FaultRow":
        record = run.record
        return cls(
            fault=fault,
            acknowledged=audit.acknowledged,
            lost=len(audit.lost),
            duplicated=len(audit.duplicated),
            republished=len(audit.republished),
            answered_503=record.statuses[503],
            unexpected=len(record.unexpected) + record.hangs,
            down_seconds=round(run.down_seconds, 1),
            ready_again_seconds=round(run.ready_again_seconds, 1),
        )


HEADERS = (
    "fault", "acknowledged", "lost", "duplicated", "republished", "503s", "unexpected",
    "down s", "ready again s",
)  # fmt: skip


def render(rows: list[FaultRow]) -> str:
    cells = [HEADERS] + [tuple(str(value) for value in asdict(row).values()) for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADERS))]
    lines = [
        "  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True))
        for line in cells
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    notes = (
        "republished: a retried send whose message is in two burst documents "
        "(readers merge by message_id); not a duplicate a reader sees."
    )
    return "\n".join([*lines, "", notes])


def write_json(rows: list[FaultRow], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([asdict(row) for row in rows], indent=2))
