"""The table `make fault` prints: one row per fault, what was acknowledged and what a reader
found afterwards; and the check every fault test ends with, which adds its row."""

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from end_to_end_support import Pipeline
from fault_load import REQUEST_TIMEOUT, Audit, ChangeAudit, FaultRun, audit, audit_changes


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
    slowest_answer_seconds: float
    """The slowest answer a request got; below REQUEST_TIMEOUT, or it counts as a hang."""
    changes: int
    """Acknowledged edits and deletions (0 where the load sends only)."""
    changes_lost: int
    """Changed messages not in their last acknowledged state in history or in Firestore."""
    down_seconds: float
    """From the fault until the failed piece answered again."""
    ready_again_seconds: float
    """From the piece's return until every service reported ready."""

    @classmethod
    def of(cls, fault: str, run: FaultRun, audit: Audit, changes: ChangeAudit | None) -> "FaultRow":
        record = run.record
        return cls(
            fault=fault,
            acknowledged=audit.acknowledged,
            lost=len(audit.lost),
            duplicated=len(audit.duplicated),
            republished=len(audit.republished),
            answered_503=record.statuses[503],
            unexpected=len(record.unexpected) + record.hangs,
            slowest_answer_seconds=round(record.slowest, 1),
            changes=record.changes,
            changes_lost=len(changes.lost) if changes else 0,
            down_seconds=round(run.down_seconds, 1),
            ready_again_seconds=round(run.ready_again_seconds, 1),
        )


HEADERS = (
    "fault", "acknowledged", "lost", "duplicated", "republished", "503s", "unexpected",
    "slowest s", "changes", "changes lost", "down s", "ready again s",
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


def check_and_record(
    fault: str, pipeline: Pipeline, run: FaultRun, fault_table: Callable[[FaultRow], None]
) -> Audit:
    """The promise every fault keeps, with its row in the table."""
    found = audit(pipeline, run)
    changes = audit_changes(pipeline, run) if run.record.final_states else None
    fault_table(FaultRow.of(fault, run, found, changes))
    assert found.missing_from_history == set(), f"{fault}: acknowledged, not in the history"
    assert found.missing_from_firestore == set(), f"{fault}: acknowledged, not in Firestore"
    assert found.duplicated == set(), f"{fault}: duplicated"
    assert run.record.unexpected == [], f"{fault}: answers a client must never get"
    assert run.record.hangs == 0, f"{fault}: requests hung past {REQUEST_TIMEOUT} s"
    if changes is not None:
        assert changes.wrong_in_history == set(), f"{fault}: a change lost in the history"
        assert changes.wrong_in_firestore == set(), f"{fault}: a change lost in Firestore"
    return found
