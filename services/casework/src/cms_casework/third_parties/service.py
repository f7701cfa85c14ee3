"""Third parties: organisations that act for themselves (an employer, a bank, a court), kept apart from client
representatives, who act for a client. Keyword-only functions over an explicit session."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import resources_pb2 as pb
from cms_platform.clock import Clock
from cms_platform.errors import InvalidArgument, NotFound
from cms_platform.paging import next_token, page

from ..names import id_from, new_id
from .models import ThirdPartyRecord


def _check_third_party(tp: pb.ThirdParty) -> None:
    if tp.kind not in pb.ThirdPartyKind.values():
        raise InvalidArgument.field("third_party.kind", "is not a kind of third party")
    if tp.kind == pb.THIRD_PARTY_KIND_EMPLOYER and not tp.employer_paye_reference.strip():
        raise InvalidArgument.field(
            "third_party.employer_paye_reference", "an employer needs its PAYE reference"
        )


def _save_third_party(row: ThirdPartyRecord, tp: pb.ThirdParty, clock: Clock) -> None:
    tp.update_time.FromDatetime(clock.now())
    row.kind, row.organisation_name = pb.ThirdPartyKind.Name(tp.kind), tp.organisation_name.strip()
    row.employer_paye_reference = tp.employer_paye_reference.strip().upper()
    row.document, row.updated_at = tp.SerializeToString(), clock.now()


def create_third_party(
    db: Session, *, request: api.CreateThirdPartyRequest, clock: Clock
) -> pb.ThirdParty:
    _check_third_party(request.third_party)
    tp = pb.ThirdParty()
    tp.CopyFrom(request.third_party)
    tp_id = new_id()
    tp.name = f"thirdParties/{tp_id}"
    tp.create_time.FromDatetime(clock.now())
    row = ThirdPartyRecord(
        id=tp_id,
        kind="",
        organisation_name="",
        document=b"",
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    _save_third_party(row, tp, clock)
    db.add(row)
    return tp


def get_third_party(db: Session, *, name: str) -> pb.ThirdParty:
    row = db.get(ThirdPartyRecord, id_from(name, "thirdParties", "name"))
    if row is None:
        raise NotFound("third party", name)
    return pb.ThirdParty.FromString(row.document)


def list_third_parties(
    db: Session, *, request: api.ListThirdPartiesRequest
) -> api.ListThirdPartiesResponse:
    size, offset = page(request.page_size, request.page_token, maximum=500)
    q = select(ThirdPartyRecord)
    if request.kind:
        q = q.where(ThirdPartyRecord.kind == pb.ThirdPartyKind.Name(request.kind))
    if request.organisation_name_prefix:
        prefix = request.organisation_name_prefix.strip().lower()
        q = q.where(
            func.lower(ThirdPartyRecord.organisation_name).startswith(prefix, autoescape=True)
        )
    if request.employer_paye_reference:
        q = q.where(
            ThirdPartyRecord.employer_paye_reference
            == request.employer_paye_reference.strip().upper()
        )
    rows = db.scalars(
        q.order_by(ThirdPartyRecord.organisation_name, ThirdPartyRecord.id)
        .offset(offset)
        .limit(size + 1)
    ).all()
    return api.ListThirdPartiesResponse(
        third_parties=[pb.ThirdParty.FromString(r.document) for r in rows[:size]],
        next_page_token=next_token(offset + size) if len(rows) > size else "",
    )


def update_third_party(
    db: Session, *, request: api.UpdateThirdPartyRequest, clock: Clock
) -> pb.ThirdParty:
    _check_third_party(request.third_party)
    tp_id = id_from(request.third_party.name, "thirdParties", "third_party.name")
    row = db.get(ThirdPartyRecord, tp_id, with_for_update=True)
    if row is None:
        raise NotFound("third party", request.third_party.name)
    before = pb.ThirdParty.FromString(row.document)
    tp = pb.ThirdParty()
    tp.CopyFrom(request.third_party)
    tp.create_time.CopyFrom(before.create_time)
    _save_third_party(row, tp, clock)
    return tp
