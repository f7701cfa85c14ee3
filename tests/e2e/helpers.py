"""Requests and polling shared by the cross-service suites."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

from google.type import date_pb2

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common


def person(
    nino: str, forenames: str, surname: str, y: int, m: int, d: int
) -> common.PersonIdentity:
    return common.PersonIdentity(
        nino=nino,
        name=common.PersonName(forenames=forenames, surname=surname),
        date_of_birth=date_pb2.Date(year=y, month=m, day=d),
    )


def create_case_request(**kw) -> api.CreateCaseRequest:
    # Alex Turner is seeded in the shared synthetic population with £31,200 a year of earned income.
    return api.CreateCaseRequest(
        request_id=str(uuid.uuid4()),
        paying_parent=pb.Client(identity=person("AA123456A", "Alex", "Turner", 1985, 3, 14)),
        receiving_parent=pb.Client(identity=person("AB234567B", "Bethan", "Morgan", 1979, 11, 2)),
        qualifying_children=[
            pb.QualifyingChild(
                name=common.PersonName(forenames="Amy", surname="Morgan"),
                date_of_birth=date_pb2.Date(year=2015, month=7, day=1),
            ),
            pb.QualifyingChild(
                name=common.PersonName(forenames="Ben", surname="Morgan"),
                date_of_birth=date_pb2.Date(year=2018, month=2, day=9),
            ),
        ],
        payment_frequency=common.PAYMENT_FREQUENCY_MONTHLY,
        **kw,
    )


def generated_families(count: int, *, start: int = 0, on=None):
    """CreateCaseRequests for `count` separated families of the shared synthetic population
    (cms_devkit.families): every gateway knows them consistently."""
    import datetime as dt
    import itertools

    from cms_devkit.families import families

    for family in itertools.islice(families(on=on or dt.date(2026, 4, 6), start=start), count):
        yield family.create_case_request()


ROOT = Path(__file__).resolve().parents[2]


def launch_devstack(var_dir: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """`make run` as a process (tools/devstack.py over `var_dir`), its output and errors on one text pipe."""
    return subprocess.Popen(
        [sys.executable, str(ROOT / "tools" / "devstack.py"), "--var-dir", str(var_dir)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
