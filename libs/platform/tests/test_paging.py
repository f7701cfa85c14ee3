"""AIP-158 paging (cms_platform.paging)."""

from __future__ import annotations

import pytest

from cms_platform.errors import InvalidArgument


def test_paging_names_a_bad_size_or_token():
    from cms_platform.paging import page

    assert page(0, "") == (50, 0) and page(1000, "40", maximum=200) == (200, 40)
    for size, token, field in [
        (-1, "", "page_size"),
        (10, "abc", "page_token"),
        (10, "-5", "page_token"),
    ]:
        with pytest.raises(InvalidArgument) as err:
            page(size, token)
        assert [v.field for v in err.value.violations] == [field]


def test_a_page_and_the_token_of_the_next():
    from cms_platform.paging import page_of, window

    assert page_of([1, 2, 3], 2, 10) == ([1, 2], "12")
    assert page_of([1, 2], 2, 10) == ([1, 2], "")
    assert window(list(range(5)), 2, 2) == ([2, 3], "4")
    assert window(list(range(5)), 2, 4) == ([4], "")
