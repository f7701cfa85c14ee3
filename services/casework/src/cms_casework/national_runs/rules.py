"""A national run's decisions (no I/O): its id, how its cases are split into chunks, each chunk's record key, and
what the chunks done so far come to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Cases a chunk: small enough that one chunk's work (a recalculation a case) ends well inside the consumer's poll
# interval and stall check, large enough that a run of a few thousand cases is tens of events, not thousands.
DEFAULT_CHUNK_SIZE = 100
# As many failure lines as a scheduled job's answer lists (scheduler.service.MAX_FAILURES_LISTED).
MAX_FAILURES = 100


def run_id(job_name: str, as_of: dt.date) -> str:
    """One run per job and business date: SCHEDULED_JOB_ANNUAL_REVIEW on 15 March 2027 is
    `annual-review-2027-03-15`, so starting the date again finds the run already issued."""
    slug = job_name.removeprefix("SCHEDULED_JOB_").lower().replace("_", "-")
    return f"{slug}-{as_of.isoformat()}"


def chunks(case_ids: Iterable[str], size: int = DEFAULT_CHUNK_SIZE) -> list[list[str]]:
    """The cases in id order, `size` a chunk (the last may be smaller); none for no cases."""
    if size < 1:
        raise ValueError("a chunk holds at least one case")
    ordered = sorted(set(case_ids))
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]


def chunk_key(run: str, chunk: int) -> str:
    """The chunk's resource name, its record key: chunks of one run hash to different partitions."""
    return f"nationalRuns/{run}/chunks/{chunk}"


@dataclass(frozen=True)
class ChunkOutcome:
    items_due: int
    items_processed: int
    items_failed: int
    failures: tuple[str, ...] = ()


@dataclass(frozen=True)
class Progress:
    """Where a run is: how many chunks of how many are done, and what their cases came to."""

    run_id: str
    chunk_count: int
    chunks_done: int
    items_due: int
    items_processed: int
    items_failed: int
    failures: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return self.chunks_done >= self.chunk_count


def progress(
    run: str, *, chunk_count: int, items_due: int, done: Sequence[ChunkOutcome]
) -> Progress:
    """The run's progress from its chunks done: `items_due` is the run's (every case it issued), the processed and
    failed counts those of the chunks done; the failures listed are the first MAX_FAILURES."""
    failures = [f for outcome in done for f in outcome.failures][:MAX_FAILURES]
    return Progress(
        run_id=run,
        chunk_count=chunk_count,
        chunks_done=len(done),
        items_due=items_due,
        items_processed=sum(o.items_processed for o in done),
        items_failed=sum(o.items_failed for o in done),
        failures=tuple(failures),
    )
