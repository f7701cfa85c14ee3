"""Employment and award ids: opaque (no NINO in them), stable, decodable only when made here."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cms_platform.redaction import contains_personal_pattern, own_id
from cms_simulation.population import ids

letters = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
ninos = st.builds(
    lambda a, b, d, s: f"{a}{b}{d:06d}{s}",
    letters,
    letters,
    st.integers(0, 999_999),
    st.sampled_from("ABCD"),
)
kinds = st.sampled_from(["", "E", "M", "B", "S"])
numbers = st.integers(0, 65_535)


@given(ninos, kinds, numbers, st.sampled_from([ids.EMPLOYMENT, ids.AWARD]))
def test_an_id_decodes_to_what_made_it_and_shows_no_nino(nino, kind, n, prefix):
    made = ids.make(prefix, nino, kind, n)
    assert ids.decode(made) == (nino, kind, n)
    assert ids.make(prefix, nino.lower(), kind, n) == made  # stable whatever the NINO's case
    assert nino not in made.upper() and not contains_personal_pattern(made)
    assert own_id(made)  # error messages may echo it
    assert ids.legacy(made) == f"{nino}-{kind}{n}"


@given(ninos, ninos, kinds, numbers)
def test_different_people_get_different_ids(a, b, kind, n):
    if a != b:
        assert ids.employment_id(a, n, kind) != ids.employment_id(b, n, kind)


@given(st.text(max_size=30))
def test_strings_not_made_here_do_not_decode(text):
    assert ids.decode(text) is None
    assert ids.legacy(text) == text and ids.nino_of(text) is None


def test_a_tampered_id_does_not_decode():
    made = ids.award_id("AE456789D", "B", 1)
    flipped = made[:-1] + ("0" if made[-1] != "0" else "1")
    assert ids.decode(flipped) is None
    assert ids.decode(made.upper()) is None and ids.decode(made.replace("awd_", "emp_x")) is None


def test_hashed_ids_are_opaque_stable_and_never_decode():
    one = ids.hashed(ids.EMPLOYMENT, "AB123456C", "247/A1987CB", "P001")
    assert one == ids.hashed(ids.EMPLOYMENT, "AB123456C", "247/A1987CB", "P001")
    assert one != ids.hashed(ids.EMPLOYMENT, "AB123456C", "247/A1987CB", "P002")
    assert "AB123456C" not in one and ids.decode(one) is None and own_id(one)
