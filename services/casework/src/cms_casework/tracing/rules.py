"""The tracing rules, pure: which trace method may run next, what each source's answer is worth, which statutory power
each request relies on, and how the credit reference agency's leads become a suggested collection step
(docs/domain/money.md "Finding people and money").

The order of a trace: DWP's Customer Information System first, then a credit reference agency, and HMRC's employer
records only "when all other trace methods have been exhausted" (the CMS's tracing procedure; HMRC's data is shared
for child support under Child Support Act 1991 Sch 2 para 1, which the CMS uses as the last resort)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# Trace methods, in order (the TraceMethod enum's names without the prefix).
CIS, CRA, HMRC = "CIS_ADDRESS", "CRA_TRACE", "HMRC_EMPLOYER_TRACE"
ORDER = (CIS, CRA, HMRC)

# Step outcomes (TraceStepOutcome).
FOUND, NOTHING_USABLE, NOT_FOUND = "FOUND", "NOTHING_USABLE", "NOT_FOUND"

# Match outcomes a source answers with (cms.common.v1.MatchOutcome).
MATCHED, PARTIAL, UNMATCHED = "MATCHED", "PARTIAL", "NOT_FOUND"

# Refusal reasons (FAILED_PRECONDITION).
NOT_EXHAUSTED = "TRACE_METHODS_NOT_EXHAUSTED"
OUT_OF_ORDER = "TRACE_STEP_OUT_OF_ORDER"
ENDED = "TRACE_ENDED"

# The statutory power each request relies on. Child Support Act 1991 s14 lets regulations require information to be
# given to the Secretary of State to trace a parent and to assess and collect maintenance; the Child Support
# Information Regulations 2008 (SI 2008/2551) reg 4 names who must give it (the parents, employers, local
# authorities, credit reference agencies and others). Schedule 2 to the 1991 Act covers information held by HMRC
# (para 1); Welfare Reform Act 2012 s127 lets HMRC and DWP share it. CIS is the Secretary of State's own record,
# used for child support under the same s14 power.
_INFO_REGS = "Child Support Information Regulations 2008 (SI 2008/2551) reg 4"
LEGAL_BASIS = {
    "DWP_CIS": f"Child Support Act 1991 s14 and Sch 2; {_INFO_REGS} (the Secretary of State's own records)",
    "CREDIT_REFERENCE_AGENCY": f"Child Support Act 1991 s14; {_INFO_REGS} (credit reference agency)",
    "HMRC": f"Child Support Act 1991 s14 and Sch 2 para 1; {_INFO_REGS}; Welfare Reform Act 2012 s127",
}


def legal_basis(source: str) -> str:
    """The power a request to `source` (an InformationSource name without its prefix) relies on."""
    return LEGAL_BASIS[source]


@dataclass(frozen=True)
class Place:
    """An address reduced to what identifies it: its first line and postcode."""

    first_line: str
    postcode: str


def _squash(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.casefold())


def same_place(a: Place | None, b: Place | None) -> bool:
    """Whether two addresses are the same place (case, spaces and punctuation aside)."""
    if a is None or b is None:
        return False
    return _squash(a.postcode) == _squash(b.postcode) and _squash(a.first_line) == _squash(
        b.first_line
    )


@dataclass(frozen=True)
class StepResult:
    outcome: str
    findings: tuple[str, ...]
    # The index of the address found among those given, or None.
    address: int | None = None
    employer: str = ""


def next_method(done: Sequence[tuple[str, str]]) -> str | None:
    """The next method of a trace whose steps so far are (method, outcome), or None when it has ended (a step found
    something, or every method has been tried)."""
    if any(outcome == FOUND for _, outcome in done):
        return None
    tried = len(done)
    return ORDER[tried] if tried < len(ORDER) else None


def refusal(requested: str, done: Sequence[tuple[str, str]]) -> str | None:
    """Why `requested` may not run now (a refusal reason), or None when it is the next method."""
    due = next_method(done)
    if due is None:
        return ENDED
    if requested == due:
        return None
    if requested == HMRC:
        return NOT_EXHAUSTED
    return OUT_OF_ORDER


def assess_cis(*, restricted: bool, current: Sequence[Place], known: Place | None) -> StepResult:
    """CIS's answer: usable when it holds a current address the CMS does not already hold (the one the client is no
    longer at). A restricted record gives nothing."""
    if restricted:
        return StepResult(NOTHING_USABLE, ("RECORD_RESTRICTED",))
    if not current:
        return StepResult(NOTHING_USABLE, ("NO_CURRENT_ADDRESS",))
    for i, place in enumerate(current):
        if not same_place(place, known):
            return StepResult(FOUND, ("CURRENT_ADDRESS",), address=i)
    return StepResult(NOTHING_USABLE, ("ADDRESS_ALREADY_HELD",))


@dataclass(frozen=True)
class TracedPlace:
    place: Place
    # CURRENT, FORWARD, PREVIOUS or LINKED (AddressLinkType without its prefix).
    link: str
    confidence_percent: int
    gone_away: bool


def assess_cra(
    *, match: str, addresses: Sequence[TracedPlace], known: Place | None, min_confidence: int
) -> StepResult:
    """The agency's trace: usable when it matched the person and links them, with at least `min_confidence`, to a
    current or forward address the CMS does not already hold that no lender has marked gone away. A partial match
    must be verified before it is acted on, so it is not usable here."""
    if match == UNMATCHED:
        return StepResult(NOT_FOUND, ("NOT_ON_FILE",))
    if match == PARTIAL:
        return StepResult(NOTHING_USABLE, ("PARTIAL_MATCH",))
    why = "NO_CURRENT_ADDRESS"
    for i, a in enumerate(addresses):
        if a.link not in ("CURRENT", "FORWARD") or a.gone_away:
            continue
        if same_place(a.place, known):
            why = "ADDRESS_ALREADY_HELD"
            continue
        if a.confidence_percent < min_confidence:
            why = "LOW_CONFIDENCE"
            continue
        return StepResult(FOUND, (f"{a.link}_ADDRESS",), address=i)
    return StepResult(NOTHING_USABLE, (why,))


def assess_hmrc(
    *, match: str, address: Place | None, live_employers: Sequence[str], known: Place | None
) -> StepResult:
    """HMRC's employer records: usable when HMRC holds an address the CMS does not, or a live employment (the
    employer can be asked for the employee's address, Information Regulations reg 4)."""
    if match == UNMATCHED:
        return StepResult(NOT_FOUND, ("NOT_MATCHED",))
    if match == PARTIAL:
        return StepResult(NOTHING_USABLE, ("PARTIAL_MATCH",))
    findings: list[str] = []
    chosen = None
    if address is not None and not same_place(address, known):
        findings.append("HMRC_HELD_ADDRESS")
        chosen = 0
    employer = live_employers[0] if live_employers else ""
    if employer:
        findings.append("EMPLOYER")
    if findings:
        return StepResult(FOUND, tuple(findings), address=chosen, employer=employer)
    return StepResult(NOTHING_USABLE, ("NO_ADDRESS_OR_EMPLOYER",))


# -- financial data at arrears --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lead:
    rank: int
    # A SuggestedCollectionStep name without its prefix.
    step: str


def recommended_step(leads: Sequence[Lead], cautions: Sequence[str]) -> str | None:
    """The step the best-ranked lead supports, or None when there is no lead; a caution that blocks collection
    (an insolvency in force, a death) makes it FURTHER_INVESTIGATION whatever the leads say."""
    if not leads:
        return None
    if {"INSOLVENCY_IN_FORCE", "DECEASED"} & set(cautions):
        return "FURTHER_INVESTIGATION"
    return min(leads, key=lambda lead: lead.rank).step
