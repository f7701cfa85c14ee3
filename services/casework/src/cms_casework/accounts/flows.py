"""The accounts' runs over many accounts, a chunk per transaction (set-based: a few bulk reads and one bulk insert
per chunk), so a crash part-way loses nothing and running again completes: the charge run posts every schedule row
due by its date and not yet charged; the daily payment run pays each receiving parent at most once a day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import sessionmaker

from cms_platform.clock import Clock

from . import service

CHUNK = 500  # accounts (or receiving parents) per transaction


@dataclass(frozen=True)
class RunResult:
    due: int  # accounts (receiving parents) with something to do
    done: int  # chunks' accounts (receiving parents) committed
    items: int  # schedule rows charged (payments made)


def run_charges(
    *, sessions: sessionmaker, as_of: dt.date, clock: Clock, chunk: int = CHUNK
) -> RunResult:
    with sessions() as s:
        due = service.accounts_with_charges_due(s, as_of=as_of)
    done = items = 0
    for i in range(0, len(due), chunk):
        ids = due[i : i + chunk]
        with sessions.begin() as s:
            items += service.post_due_charges(s, account_ids=ids, as_of=as_of, clock=clock)
        done += len(ids)
    return RunResult(len(due), done, items)


def run_payments(
    *, sessions: sessionmaker, on: dt.date, clock: Clock, chunk: int = CHUNK
) -> RunResult:
    with sessions() as s:
        due = service.receiving_parents_to_pay(s, on=on)
    done = items = 0
    for i in range(0, len(due), chunk):
        ids = due[i : i + chunk]
        with sessions.begin() as s:
            items += service.pay_receiving_parents(s, receiving_parent_ids=ids, on=on, clock=clock)
        done += len(ids)
    return RunResult(len(due), done, items)
