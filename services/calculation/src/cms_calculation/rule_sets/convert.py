"""Rule sets as the contract's RuleSet resource: the fee scheme, the flat-rate benefits and every named parameter
with its citation, unit and whether it is unconfirmed."""

from __future__ import annotations

import datetime as dt

from cms.calculation.v1 import resources_pb2 as pb
from cms_platform.convert import pb_date

from ..engine.rules import RuleSet, parameters

PREFIX = "ruleSets/"


def name_of(rules: RuleSet) -> str:
    """The resource name: ruleSets/{rule_set_version}."""
    return f"{PREFIX}{rules.version}"


def rule_set_message(rules: RuleSet) -> pb.RuleSet:
    msg = pb.RuleSet(
        name=name_of(rules),
        version=rules.version,
        description=rules.description,
        collection_fees=pb.CollectionFeeScheme(
            paying_parent_fee_basis_points=rules.fees.paying_parent_bp,
            non_compliant_paying_parent_fee_basis_points=rules.fees.non_compliant_paying_parent_bp,
            receiving_parent_fee_basis_points=rules.fees.receiving_parent_bp,
            direct_pay_available=rules.fees.direct_pay_available,
        ),
        flat_rate_benefits_paying_parent=sorted(
            pb.Benefit.ValueType(b.value) for b in rules.flat_rate_benefits_paying_parent
        ),
        flat_rate_benefits_paying_parent_or_partner=sorted(
            pb.Benefit.ValueType(b.value) for b in rules.flat_rate_benefits_paying_parent_or_partner
        ),
        parameters=[
            pb.RuleSetParameter(
                name=p.name,
                value=p.value,
                unit=p.unit,
                citation=p.citation,
                unconfirmed=p.unconfirmed,
                description=p.description,
            )
            for p in parameters(rules)
        ],
    )
    if rules.effective_from is not None:
        msg.effective_period.start_date.CopyFrom(pb_date(rules.effective_from))
        if rules.effective_to is not None:  # DateRange's end is the last day in force
            msg.effective_period.end_date.CopyFrom(
                pb_date(rules.effective_to - dt.timedelta(days=1))
            )
    return msg
