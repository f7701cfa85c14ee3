"""National Insurance number rules (cms_platform.identifiers): which NINOs HMRC could have issued, and their
normal form (upper case, no spaces)."""

from __future__ import annotations

import pytest

from cms_platform.identifiers import normalise_nino, valid_nino


@pytest.mark.parametrize(
    "nino", ["AA123456A", "aa 12 34 56 a", "CR123456B", "JK123456C", "NA000799C", "AB 123456 D"]
)
def test_valid_ninos(nino):
    assert valid_nino(nino)


@pytest.mark.parametrize(
    "nino",
    [
        "DA123456A",
        "FA123456A",
        "IA123456A",
        "QA123456A",
        "UA123456A",
        "VA123456A",  # first letter
        "AD123456A",
        "AF123456A",
        "AI123456A",
        "AQ123456A",
        "AU123456A",
        "AV123456A",
        "AO123456A",  # second letter
        "BG123456A",
        "GB123456A",
        "KN123456A",
        "NK123456A",
        "NT123456A",
        "TN123456A",
        "ZZ123456A",  # never issued
        "AA123456E",
        "AA12345A",
        "AA1234567A",
        "A1123456A",
        "",
        "AA123456",
    ],
)
def test_invalid_ninos_are_rejected(nino):
    assert not valid_nino(nino)


def test_normalise_nino():
    assert normalise_nino(" ab 12 34 56 c ") == "AB123456C"
