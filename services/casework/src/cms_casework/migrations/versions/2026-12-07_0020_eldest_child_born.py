"""Cases carry their eldest current qualifying child's date of birth as a column, so the monthly Child Benefit check
selects the cases with a child aged 16 or over instead of reading every live case's document.

Existing cases are filled in from their documents, a page at a time (keyset on the id), in the migration's
transaction.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op
from google.type import date_pb2

from cms.casework.v1 import resources_pb2 as pb

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_PAGE = 5000


def _eldest_child_born(case: pb.Case) -> dt.date | None:
    """The rule as it stood at this revision (case_records.service.eldest_child_born), frozen here so a later change
    to the service cannot change what this migration wrote."""
    if case.state == pb.CASE_STATE_CLOSED:
        return None
    born = [
        _day(c.date_of_birth)
        for c in case.qualifying_children
        if not c.end_date.year and c.date_of_birth.year
    ]
    return min((b for b in born if b is not None), default=None)


def _day(date: date_pb2.Date) -> dt.date | None:
    """A whole, real calendar day, else None (a partial date or 31 February counts as missing)."""
    if not (date.year and date.month and date.day):
        return None
    try:
        return dt.date(date.year, date.month, date.day)
    except ValueError:
        return None


def upgrade() -> None:
    op.add_column("cases", sa.Column("eldest_child_born", sa.Date(), nullable=True))
    op.create_index("ix_cases_state_eldest_child", "cases", ["state", "eldest_child_born"])
    cases = sa.table(
        "cases",
        sa.column("id", sa.String),
        sa.column("document", sa.LargeBinary),
        sa.column("eldest_child_born", sa.Date),
    )
    bind = op.get_bind()
    cursor = ""
    while True:
        rows = bind.execute(
            sa.select(cases.c.id, cases.c.document)
            .where(cases.c.id > cursor)
            .order_by(cases.c.id)
            .limit(_PAGE)
        ).all()
        if not rows:
            return
        cursor = rows[-1].id
        filled = [
            {"case_id": r.id, "born": born}
            for r in rows
            if (born := _eldest_child_born(pb.Case.FromString(r.document))) is not None
        ]
        if filled:
            bind.execute(
                cases.update()
                .where(cases.c.id == sa.bindparam("case_id"))
                .values(eldest_child_born=sa.bindparam("born")),
                filled,
            )


def downgrade() -> None:
    op.drop_index("ix_cases_state_eldest_child", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("eldest_child_born")
