"""The tracing rules, pure: the order of a trace's methods (HMRC last, only once the others are exhausted), what each
source's answer is worth, the legal basis named for each source, and the recommended collection step."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cms_casework.tracing import rules

HOME = rules.Place("14 Victoria Road", "LS6 1DL")
ELSEWHERE = rules.Place("3 Canal Wharf", "LS11 5PS")

outcomes = st.sampled_from([rules.FOUND, rules.NOTHING_USABLE, rules.NOT_FOUND])
steps_so_far = st.lists(outcomes, max_size=3).map(
    lambda found: list(zip(rules.ORDER, found, strict=False))
)


def test_a_trace_runs_cis_then_the_cra_then_hmrc():
    assert rules.next_method([]) == rules.CIS
    assert rules.next_method([(rules.CIS, rules.NOTHING_USABLE)]) == rules.CRA
    assert (
        rules.next_method([(rules.CIS, rules.NOTHING_USABLE), (rules.CRA, rules.NOT_FOUND)])
        == rules.HMRC
    )


def test_hmrc_asked_early_is_refused_as_not_exhausted_and_the_cra_early_as_out_of_order():
    assert rules.refusal(rules.HMRC, []) == rules.NOT_EXHAUSTED
    assert rules.refusal(rules.HMRC, [(rules.CIS, rules.NOTHING_USABLE)]) == rules.NOT_EXHAUSTED
    assert rules.refusal(rules.CRA, []) == rules.OUT_OF_ORDER
    assert rules.refusal(rules.CIS, [(rules.CIS, rules.FOUND)]) == rules.ENDED


@given(steps_so_far, st.sampled_from(rules.ORDER))
def test_hmrc_is_permitted_only_when_every_other_method_found_nothing(done, asked):
    permitted = rules.refusal(asked, done) is None
    if asked == rules.HMRC and permitted:
        assert [m for m, _ in done] == [rules.CIS, rules.CRA]
        assert all(outcome != rules.FOUND for _, outcome in done)
    if permitted:
        assert asked == rules.next_method(done)


@given(steps_so_far)
def test_a_trace_ends_exactly_when_something_was_found_or_every_method_was_tried(done):
    ended = rules.next_method(done) is None
    assert ended == (any(o == rules.FOUND for _, o in done) or len(done) == len(rules.ORDER))


def test_cis_is_usable_only_with_a_current_address_the_case_does_not_hold():
    assert rules.assess_cis(restricted=False, current=[HOME], known=HOME).outcome == (
        rules.NOTHING_USABLE
    )
    found = rules.assess_cis(restricted=False, current=[HOME, ELSEWHERE], known=HOME)
    assert (found.outcome, found.address) == (rules.FOUND, 1)
    assert rules.assess_cis(restricted=True, current=[ELSEWHERE], known=HOME).findings == (
        "RECORD_RESTRICTED",
    )
    assert rules.assess_cis(restricted=False, current=[], known=HOME).findings == (
        "NO_CURRENT_ADDRESS",
    )
    # With no address held, any current address is a find.
    assert rules.assess_cis(restricted=False, current=[HOME], known=None).outcome == rules.FOUND


def test_the_same_place_ignores_case_spacing_and_punctuation():
    assert rules.same_place(HOME, rules.Place("14, victoria road", "ls61dl"))
    assert not rules.same_place(HOME, rules.Place("14 Victoria Road", "LS6 1DM"))
    assert not rules.same_place(HOME, None)


def traced(place, link="CURRENT", confidence=80, gone_away=False):
    return rules.TracedPlace(place, link, confidence, gone_away)


def test_the_cra_is_usable_for_a_confident_current_or_forward_address_not_gone_away():
    def assess(*addresses, match=rules.MATCHED):
        return rules.assess_cra(match=match, addresses=addresses, known=HOME, min_confidence=60)

    assert assess(traced(ELSEWHERE, "FORWARD")).findings == ("FORWARD_ADDRESS",)
    assert assess(traced(ELSEWHERE, "PREVIOUS")).outcome == rules.NOTHING_USABLE
    assert assess(traced(ELSEWHERE, gone_away=True)).outcome == rules.NOTHING_USABLE
    assert assess(traced(ELSEWHERE, confidence=59)).findings == ("LOW_CONFIDENCE",)
    assert assess(traced(HOME)).findings == ("ADDRESS_ALREADY_HELD",)
    assert assess(traced(ELSEWHERE), match=rules.PARTIAL).findings == ("PARTIAL_MATCH",)
    assert assess(match=rules.UNMATCHED).outcome == rules.NOT_FOUND
    assert assess(traced(HOME), traced(ELSEWHERE)).address == 1


def test_hmrc_is_usable_for_an_address_not_held_or_a_live_employer():
    def assess(address=None, employers=(), match=rules.MATCHED):
        return rules.assess_hmrc(match=match, address=address, live_employers=employers, known=HOME)

    assert assess().outcome == rules.NOTHING_USABLE
    assert assess(HOME).outcome == rules.NOTHING_USABLE
    assert assess(ELSEWHERE).findings == ("HMRC_HELD_ADDRESS",)
    found = assess(HOME, ["Aire Valley Logistics Ltd"])
    assert (found.outcome, found.employer, found.address) == (
        rules.FOUND,
        "Aire Valley Logistics Ltd",
        None,
    )
    assert assess(ELSEWHERE, match=rules.UNMATCHED).outcome == rules.NOT_FOUND


def test_every_source_has_its_statutory_power():
    for source in ("DWP_CIS", "CREDIT_REFERENCE_AGENCY", "HMRC"):
        basis = rules.legal_basis(source)
        assert basis.startswith("Child Support Act 1991 s14")
        assert "SI 2008/2551" in basis and "reg 4" in basis


steps = st.sampled_from(
    ["REGULAR_DEDUCTION_ORDER", "LUMP_SUM_DEDUCTION_ORDER", "DEDUCTION_FROM_EARNINGS_ORDER"]
)


@given(st.lists(steps, min_size=1, max_size=6), st.randoms())
def test_the_recommended_step_is_the_best_ranked_leads_whatever_their_order(chosen, random):
    leads = [rules.Lead(rank=i + 1, step=s) for i, s in enumerate(chosen)]
    random.shuffle(leads)
    assert rules.recommended_step(leads, []) == chosen[0]
    assert rules.recommended_step(leads, ["INSOLVENCY_IN_FORCE"]) == "FURTHER_INVESTIGATION"


def test_no_leads_no_recommendation():
    assert rules.recommended_step([], ["GONE_AWAY"]) is None
