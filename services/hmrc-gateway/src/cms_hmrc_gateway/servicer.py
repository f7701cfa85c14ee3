"""Thin gRPC adapter over the HMRC port."""

from __future__ import annotations

from cms.common.v1 import types_pb2 as common
from cms.hmrc.v1 import hmrc_service_pb2 as api
from cms.hmrc.v1 import hmrc_service_pb2_grpc as api_grpc
from cms.hmrc.v1 import resources_pb2 as pb
from cms_platform.convert import full_date

from .port import HmrcPort, MatchOutcome, PersonToMatch

_OUTCOMES = {MatchOutcome.MATCHED: common.MATCH_OUTCOME_MATCHED, MatchOutcome.PARTIAL: common.MATCH_OUTCOME_PARTIAL,
             MatchOutcome.NOT_FOUND: common.MATCH_OUTCOME_NOT_FOUND}


def person_to_match(person: common.PersonIdentity, field: str = "person") -> PersonToMatch:
    return PersonToMatch(nino=person.nino, forenames=person.name.forenames, surname=person.name.surname,
                         date_of_birth=full_date(person.date_of_birth, f"{field}.date_of_birth"))


class HmrcGatewayServicer(api_grpc.HmrcGatewayServiceServicer):
    def __init__(self, *, hmrc: HmrcPort):
        self._hmrc = hmrc

    def GetSummaryOfEarnedIncome(self, request: api.GetSummaryOfEarnedIncomeRequest, context
                                 ) -> api.GetSummaryOfEarnedIncomeResponse:
        s = self._hmrc.summary_of_earned_income(person_to_match(request.person))
        return api.GetSummaryOfEarnedIncomeResponse(
            match=common.MatchResult(outcome=_OUTCOMES[s.outcome], failed_rules=list(s.failed_rules)),
            tax_year=s.tax_year, gross_income_pence=s.gross_income_pence, income_data_held=s.income_data_held,
            source=pb.INCOME_SOURCE_PAYE if s.income_data_held else pb.INCOME_SOURCE_UNSPECIFIED,
            components=pb.EarnedIncomeComponents(employment_income_pence=s.employment_income_pence))
