"""Bulk runs across every core of the pod.

An annual review or a whole-caseload what-if is CPU-bound Python, so what-if batches are calculated in a pool of
worker processes (spawned, never forked: gRPC's threads do not survive a fork) while the gRPC process only moves
bytes. A batch of stored items only is decided in a worker too, then written in the service process, where the
database session is (and where a known request id is answered from the database instead); a batch that mixes
what-ifs and stored items is calculated in the service process. Batches are written in the order they were sent,
and results always come back in that order.

The runner knows nothing of the transport: the caller gives it `respond`, which turns a batch's outcomes into its
answer (a refused item's domain error into that item's status). It must be a module-level function, because each
worker process receives it by name and answers with the serialized response.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import multiprocessing
import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from cms.calculation.v1 import calculation_service_pb2 as api
from cms_platform.clock import Clock, ManualClock

from ..engine.rules import RuleBook
from . import service

Respond = Callable[[Sequence[service.ItemOutcome]], api.BulkCalculateResponse]
InProcess = Callable[[list[api.BulkCalculateItem]], list[service.ItemOutcome]]
# Writes a stored batch decided in a worker (service.bulk_batch with its `decided`), in the service process.
Store = Callable[
    [list[api.BulkCalculateItem], list[service.Decided | None]], list[service.ItemOutcome]
]
# A batch's answer on its way back: bytes from a worker process, a message from the service process, or a stored
# batch's decisions from a worker with its items, still to be written.
_Answer = (
    Future[bytes]
    | Future[api.BulkCalculateResponse]
    | tuple[Future[list[service.Decided | None]] | None, list[api.BulkCalculateItem]]
)


# -- in a worker process -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Worker:
    rule_book: RuleBook
    respond: Respond


_WORKER: _Worker | None = None


def _init_worker(reform_start: dt.date | None, respond: Respond) -> None:
    global _WORKER
    _WORKER = _Worker(RuleBook(reform_start), respond)


def _what_if_batch(request: bytes, created: dt.datetime) -> bytes:
    worker = _WORKER
    if worker is None:
        raise RuntimeError("the bulk worker process was not initialised")
    items = list(api.BulkCalculateRequest.FromString(request).items)
    outcomes = service.bulk_batch(
        sessions=None, items=items, rule_book=worker.rule_book, clock=ManualClock(created)
    )
    return worker.respond(outcomes).SerializeToString()


def _stored_batch(request: bytes, created: dt.datetime) -> list[service.Decided | None]:
    worker = _WORKER
    if worker is None:
        raise RuntimeError("the bulk worker process was not initialised")
    items = list(api.BulkCalculateRequest.FromString(request).items)
    return service.decide_batch(items=items, rule_book=worker.rule_book, created=created)


# -- in the service process ----------------------------------------------------------------------------------------


def default_workers(cgroup_cpu_max: str = "/sys/fs/cgroup/cpu.max") -> int:
    """One worker per CPU this process may use — the container's CPU limit (cgroup v2 quota) when it has one, so a
    pod limited to 2 CPUs on a 64-CPU node starts 2 — and none (calculate in-process) on a single CPU."""
    cpus = (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    )
    try:
        quota, period = Path(cgroup_cpu_max).read_text().split()
        if quota != "max":
            cpus = min(cpus, max(1, int(quota) // int(period)))
    except (OSError, ValueError):
        pass
    return cpus if cpus > 1 else 0


class BulkRunner:
    def __init__(
        self, *, workers: int, reform_start: dt.date | None, clock: Clock, respond: Respond
    ):
        self._workers = workers
        self._clock = clock
        self._reform_start = reform_start
        self._respond = respond
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ProcessPoolExecutor | None:
        if self._workers <= 0:
            return None
        with self._lock:  # started on first use: most service starts never run a bulk job
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    self._workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_init_worker,
                    initargs=(self._reform_start, self._respond),
                )
            return self._pool

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None

    def run(
        self,
        requests: Iterable[api.BulkCalculateRequest],
        in_process: InProcess,
        store: Store | None = None,
    ) -> Iterator[api.BulkCalculateResponse]:
        """Read batches ahead on a thread (so several are calculating at once), answer them in order. A client that
        waits for each answer before sending the next batch works too: nothing waits for a later batch.
        `in_process` calculates a batch here: every batch when there are no workers, and those that mix what-ifs
        with stored items (or every stored batch, without `store`); `store` writes a stored batch a worker decided.
        With workers and `store`, every batch that stores is written as its answer is taken, so in order."""
        pool = self._executor()
        ahead: queue.Queue[_Answer | None] = queue.Queue(maxsize=max(2, 2 * self._workers))
        stop = threading.Event()

        def read() -> None:
            try:
                for request in requests:
                    if stop.is_set():
                        return
                    service.check_batch(request)
                    future: _Answer
                    if pool is not None and all(i.what_if for i in request.items):
                        future = pool.submit(
                            _what_if_batch, request.SerializeToString(), self._clock.now()
                        )
                    elif pool is not None and store is not None:
                        # Written on the answering side, in order: a batch never stores before an earlier one
                        # (one case's decisions, and a re-sent request id, stay in the order they were sent).
                        decided = (
                            None
                            if any(i.what_if for i in request.items)
                            else pool.submit(
                                _stored_batch, request.SerializeToString(), self._clock.now()
                            )
                        )
                        ahead.put((decided, list(request.items)))
                        continue
                    else:
                        here: Future[api.BulkCalculateResponse] = Future()
                        try:
                            here.set_result(self._respond(in_process(list(request.items))))
                        except Exception as exc:  # noqa: BLE001 - re-raised, in order, by the answering side
                            here.set_exception(exc)
                        future = here
                    ahead.put(future)
                ahead.put(None)
            except Exception as exc:  # noqa: BLE001 - a bad or cancelled request stream ends the call
                failed: Future[bytes] = Future()
                failed.set_exception(exc)
                ahead.put(failed)

        # The reader runs in-process batches: give it the call's context (caller, operation, deadline); the stored
        # batches decided in workers are written in another copy of it, on the answering side.
        reader = threading.Thread(
            target=contextvars.copy_context().run, args=(read,), name="bulk-reader", daemon=True
        )
        writing = contextvars.copy_context()
        reader.start()
        try:
            while (answer := ahead.get()) is not None:
                if isinstance(answer, tuple):
                    assert store is not None  # only queued with a store
                    decided, items = answer
                    yield self._respond(
                        writing.run(in_process, items)
                        if decided is None
                        else writing.run(store, items, decided.result())
                    )
                    continue
                result = answer.result()
                yield (
                    api.BulkCalculateResponse.FromString(result)
                    if isinstance(result, bytes)
                    else result
                )
        finally:
            stop.set()
            while not ahead.empty():  # unblock the reader if it is waiting for room
                ahead.get_nowait()
