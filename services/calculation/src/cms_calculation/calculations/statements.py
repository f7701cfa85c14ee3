"""A stored calculation rendered as a statement a parent (or a caseworker) can read.

Pure: takes a FULL stored Calculation and returns a CalculationStatement; no I/O. A receiving
parent's statement holds the income used and their own part only, never another receiving
parent's reference, children or amounts.
"""

from __future__ import annotations

from collections.abc import Iterable

from cms.calculation.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms_platform.errors import InvalidArgument

from ..engine.money import percent, pounds

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# How a payment frequency is written: (adverb, "per" phrase).
_FREQUENCY_WORDS = {
    common.PAYMENT_FREQUENCY_WEEKLY: ("weekly", "a week"),
    common.PAYMENT_FREQUENCY_FORTNIGHTLY: ("fortnightly", "a fortnight"),
    common.PAYMENT_FREQUENCY_FOUR_WEEKLY: ("every four weeks", "every four weeks"),
    common.PAYMENT_FREQUENCY_MONTHLY: ("monthly", "a month"),
}

_RATE_SENTENCES = {
    pb.RATE_NIL: "This is the nil rate, so no child maintenance is payable.",
    pb.RATE_FLAT: "This is worked out using the flat rate.",
    pb.RATE_REDUCED: "This is worked out using the reduced rate.",
    pb.RATE_BASIC: "This is worked out using the basic rate.",
    pb.RATE_BASIC_PLUS: "This is worked out using the basic plus rate.",
    pb.RATE_DEFAULT: "This is a default maintenance decision, made because we did not have enough information "
    "to work out the amount.",
    pb.RATE_NO_LIABILITY: "There is no liability: the children's day-to-day care is shared equally, so no child "
    "maintenance is payable.",
}

_PARENTS = (pb.STATEMENT_AUDIENCE_PAYING_PARENT, pb.STATEMENT_AUDIENCE_RECEIVING_PARENT)


def render_statement(
    calc: pb.Calculation,
    audience: pb.StatementAudience.ValueType,
    receiving_parent_reference: str = "",
) -> pb.CalculationStatement:
    """Render `calc` (a FULL stored Calculation) for `audience`.

    Raises InvalidArgument naming `audience` when it is unspecified or unknown, and naming
    `receiving_parent_reference` when the audience is a receiving parent and the reference is
    missing or not a receiving parent on this calculation.
    """
    if audience not in (*_PARENTS, pb.STATEMENT_AUDIENCE_CASEWORKER):
        raise InvalidArgument.field(
            "audience", "must be the paying parent, a receiving parent or a caseworker"
        )
    rp: pb.ReceivingParentAmount | None = None
    if audience == pb.STATEMENT_AUDIENCE_RECEIVING_PARENT:
        if not receiving_parent_reference:
            raise InvalidArgument.field(
                "receiving_parent_reference", "is required when the audience is a receiving parent"
            )
        rp = next(
            (
                a
                for a in calc.receiving_parent_amounts
                if a.receiving_parent_reference == receiving_parent_reference
            ),
            None,
        )
        if rp is None:
            raise InvalidArgument.field(
                "receiving_parent_reference",
                "is not a receiving parent on this calculation",
            )

    r = _Renderer(calc, audience, rp)
    statement = pb.CalculationStatement(
        calculation=calc.name,
        audience=audience,
        title=r.title(),
        receiving_parent_reference=rp.receiving_parent_reference if rp else "",
    )
    for heading, paragraphs in r.sections():
        if paragraphs:
            statement.sections.add(heading=heading, paragraphs=paragraphs)
    blocks = [statement.title] + ["\n".join([s.heading, *s.paragraphs]) for s in statement.sections]
    statement.plain_text = "\n\n".join(blocks) + "\n"
    return statement


def format_date(year: int, month: int, day: int) -> str:
    """E.g. "1 April 2025" (no locale- or platform-dependent strftime)."""
    return f"{day} {_MONTHS[month - 1]} {year}"


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


class _Renderer:
    def __init__(
        self,
        calc: pb.Calculation,
        audience: pb.StatementAudience.ValueType,
        rp: pb.ReceivingParentAmount | None,
    ):
        self.calc = calc
        self.audience = audience
        self.rp = rp
        self.caseworker = audience == pb.STATEMENT_AUDIENCE_CASEWORKER
        self.paying = audience == pb.STATEMENT_AUDIENCE_PAYING_PARENT
        self.forenames = {
            c.child_reference: c.forename for c in calc.input.qualifying_children if c.forename
        }
        if rp is None:
            self.children = list(calc.child_amounts)
            self.steps = list(calc.steps)
        else:
            ref = rp.receiving_parent_reference
            self.children = [c for c in calc.child_amounts if c.receiving_parent_reference == ref]
            own = {c.child_reference for c in self.children} | {
                c.child_reference
                for c in calc.input.qualifying_children
                if c.receiving_parent_reference == ref
            }
            self.steps = [
                s
                for s in calc.steps
                if s.receiving_parent_reference in ("", ref)
                and (not s.child_reference or s.child_reference in own)
            ]
        self.frequency = calc.payment_frequency or common.PAYMENT_FREQUENCY_WEEKLY

    # -- title ---------------------------------------------------------------------------------

    def title(self) -> str:
        d = (
            self.calc.effective_date
            if self.calc.HasField("effective_date")
            else self.calc.input.effective_date
        )
        when = f"from {format_date(d.year, d.month, d.day)}" if d.year else ""
        if self.caseworker:
            return " ".join(p for p in ("Child maintenance calculation", self.calc.name, when) if p)
        return " ".join(p for p in ("Your child maintenance calculation", when) if p)

    def sections(self) -> list[tuple[str, list[str]]]:
        out = [
            self.summary(),
            ("The income we used", self.income()),
            ("How we worked it out", self.workings()),
            ("Children", self.child_paragraphs()),
            ("Collection fees", self.fees()),
        ]
        if self.caseworker:
            out.append(
                (
                    "Rule set",
                    [
                        f"Rule set version {self.calc.rule_set_version or 'not recorded'} was applied."
                    ],
                )
            )
        else:
            out.append(
                (
                    "If you think this is wrong",
                    [
                        "If you think this calculation is wrong, you can ask us to look at the decision again. This is called "
                        "a mandatory reconsideration.",
                        "You must ask for a mandatory reconsideration within one month of the date of the decision. You need "
                        "to do this before you can appeal to a tribunal.",
                    ],
                )
            )
            out.append(
                (
                    "The rules we applied",
                    list(dict.fromkeys(s.citation for s in self.steps if s.citation)),
                )
            )
        return out

    # -- sections ------------------------------------------------------------------------------

    def _per_frequency(
        self, amounts: Iterable[common.PeriodicAmount], lead: str = "Payments are made"
    ) -> str | None:
        """E.g. "Payments are made monthly: £433.33 a month." (None for weekly schedules or a missing amount)."""
        if self.frequency == common.PAYMENT_FREQUENCY_WEEKLY:
            return None
        amount = next((a.amount_pence for a in amounts if a.frequency == self.frequency), None)
        if amount is None:
            return None
        adverb, per = _FREQUENCY_WORDS.get(self.frequency, ("", ""))
        return f"{lead} {adverb}: {pounds(amount)} {per}." if adverb else None

    def summary(self) -> tuple[str, list[str]]:
        calc, rp = self.calc, self.rp
        rate = _RATE_SENTENCES.get(calc.rate, "")
        if rp is not None:
            paragraphs = [
                f"The child maintenance for your {_plural(rp.qualifying_child_count, 'child', 'children')} is "
                f"{pounds(rp.weekly_amount_pence)} a week.",
                f"You will receive {pounds(rp.weekly_amount_received_pence)} a week.",
                self._per_frequency(rp.received_periodic_amounts),
                rate,
            ]
            return "What you will receive", [p for p in paragraphs if p]
        if self.paying:
            paragraphs = [
                f"You will pay {pounds(calc.weekly_amount_pence)} a week in child maintenance.",
                self._per_frequency(calc.periodic_amounts),
                rate,
            ]
            return "What you will pay", [p for p in paragraphs if p]
        paragraphs = [
            f"Case {calc.case_reference}." if calc.case_reference else None,
            f"The paying parent pays {pounds(calc.weekly_amount_pence)} a week in child maintenance for all "
            "qualifying children.",
            self._per_frequency(calc.periodic_amounts),
            rate,
        ]
        charged = calc.collection_fees.charged
        for a in calc.receiving_parent_amounts:
            line = (
                f"Receiving parent {a.receiving_parent_reference}: {pounds(a.weekly_amount_pence)} a week for "
                f"{_plural(a.qualifying_child_count, 'qualifying child', 'qualifying children')}"
            )
            if charged:
                line += f"; receives {pounds(a.weekly_amount_received_pence)} a week after the collection fee"
            paragraphs.append(line + ".")
        return "Summary", [p for p in paragraphs if p]

    def income(self) -> list[str]:
        inc, gwi = self.calc.income, self.calc.gross_weekly_income_pence
        who, whose = (
            ("you", "your") if self.paying else ("the paying parent", "the paying parent's")
        )
        if inc.basis == pb.INCOME_BASIS_NOT_USED:
            return [f"We did not use {whose} income for this calculation."]
        tax_year = self.calc.input.paying_parent_income.hmrc_tax_year
        paragraphs = {
            pb.INCOME_BASIS_HISTORIC: [
                f"We used {whose} income from HMRC for {f'the {tax_year} tax year' if tax_year else 'the latest tax year'}: "
                f"{pounds(inc.historic_weekly_income_pence)} a week."
            ],
            pb.INCOME_BASIS_CURRENT_DIFFERS_FROM_HISTORIC: [
                f"We used {whose} current income of {pounds(inc.current_weekly_income_pence)} a week instead of the "
                f"HMRC figure of {pounds(inc.historic_weekly_income_pence)} a week, because they differ by 25% or more."
            ],
            pb.INCOME_BASIS_CURRENT_IN_PLACE: [
                f"We used {whose} current income of {pounds(inc.current_weekly_income_pence)} a week: current income "
                "was already in place and changed by 25% or more, so it replaces the earlier figure."
            ],
            pb.INCOME_BASIS_CURRENT_HISTORIC_UNAVAILABLE: [
                f"We used {whose} current income of {pounds(inc.current_weekly_income_pence)} a week, because HMRC "
                "could not give us a yearly income figure."
            ],
        }.get(inc.basis, [])
        if inc.special_expenses_weekly_pence:
            paragraphs.append(
                f"We took off {pounds(inc.special_expenses_weekly_pence)} a week for special expenses."
            )
        if inc.additional_income_weekly_pence:
            paragraphs.append(
                f"We added {pounds(inc.additional_income_weekly_pence)} a week of additional income."
            )
        if inc.capped:
            paragraphs.append(
                f"Income of {pounds(inc.uncapped_weekly_income_pence)} a week is more than the most we can "
                "take into account, so only part of it counts."
            )
        paragraphs.append(f"The gross weekly income we used is {pounds(gwi)}.")
        if inc.roc_reduced_weekly_income_pence and inc.roc_reduced_weekly_income_pence != gwi:
            paragraphs.append(
                f"After the reduction for other children living with {who}, "
                f"{pounds(inc.roc_reduced_weekly_income_pence)} a week was used to work out the amount."
            )
        return paragraphs

    def workings(self) -> list[str]:
        if not self.caseworker:
            return [s.explanation for s in self.steps if s.explanation]
        paragraphs = []
        for s in self.steps:
            text = s.explanation
            if s.citation:
                text += f" [{s.citation}]"
            if s.rule_set_parameters:
                text += f" (rule-set parameters: {', '.join(s.rule_set_parameters)})"
            paragraphs.append(text)
        return paragraphs

    def child_paragraphs(self) -> list[str]:
        paragraphs = []
        for c in self.children:
            name = self.forenames.get(c.child_reference, c.child_reference)
            if self.caseworker:
                refs = [c.child_reference] if name != c.child_reference else []
                name += (
                    f" ({', '.join([*refs, 'receiving parent ' + c.receiving_parent_reference])})"
                )
            if c.shared_care_band == pb.SHARED_CARE_BAND_EQUAL_CARE:
                paragraphs.append(
                    f"{name}: day-to-day care is shared equally, so no child maintenance is payable "
                    "for this child."
                )
                continue
            who = "you" if self.paying else "the paying parent"
            paragraphs.append(
                f"{name}: {_plural(c.shared_care_nights, 'night')} a year with {who}; "
                f"{pounds(c.weekly_amount_pence)} a week of the child maintenance is for this child."
            )
        return paragraphs

    def fees(self) -> list[str]:
        fees = self.calc.collection_fees
        if not fees.charged:
            return []
        intro = "Because the Child Maintenance Service collects and pays the child maintenance, collection fees apply."
        pp = (
            f"The paying parent pays a fee of {percent(fees.paying_parent_fee_basis_points)} on top: "
            f"{pounds(fees.paying_parent_fee_weekly_pence)} a week, so {pounds(fees.paying_parent_weekly_total_pence)} "
            "a week in total."
        )
        if self.paying:
            pp = (
                f"You pay a fee of {percent(fees.paying_parent_fee_basis_points)} on top of your child maintenance: "
                f"{pounds(fees.paying_parent_fee_weekly_pence)} a week, so you pay "
                f"{pounds(fees.paying_parent_weekly_total_pence)} a week in total."
            )
        if self.rp is not None:
            return [
                intro,
                f"A fee of {percent(fees.receiving_parent_fee_basis_points)} "
                f"({pounds(self.rp.receiving_parent_fee_weekly_pence)} a week) is taken from your child "
                f"maintenance, so you receive {pounds(self.rp.weekly_amount_received_pence)} a week.",
            ]
        paragraphs = [intro, pp]
        if total := self._per_frequency(
            fees.paying_parent_periodic_amounts, "Including the fee, payments are made"
        ):
            paragraphs.append(total)
        if self.caseworker:
            paragraphs.append(
                f"The receiving parents pay a fee of {percent(fees.receiving_parent_fee_basis_points)}: "
                f"{pounds(fees.receiving_parent_fee_weekly_pence)} a week in total, so together they "
                f"receive {pounds(fees.receiving_parent_weekly_total_pence)} a week."
            )
        return paragraphs
