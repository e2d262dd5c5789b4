from datetime import date

import pytest

from bepgraph.validation.calendar import (add_days, anniversary, quarter_bounds, quarters_between, report_deadline,
                                          retention_until)


def test_anniversary_of_29_february_is_28_february() -> None:
    assert anniversary(date(2004, 2, 29)) == date(2005, 2, 28)


def test_anniversary_of_an_ordinary_day_is_the_same_day_next_year() -> None:
    assert anniversary(date(2002, 5, 16)) == date(2003, 5, 16)
    assert anniversary(date(2003, 2, 28)) == date(2004, 2, 28)


def test_add_days_crosses_29_february() -> None:
    assert add_days(date(2004, 2, 28), 1) == date(2004, 2, 29)


def test_quarter_bounds_are_inclusive_calendar_quarters() -> None:
    assert quarter_bounds(2002, 1) == (date(2002, 1, 1), date(2002, 3, 31))
    assert quarter_bounds(2004, 4) == (date(2004, 10, 1), date(2004, 12, 31))


def test_quarter_out_of_range_is_rejected() -> None:
    with pytest.raises(ValueError, match="quarter"):
        quarter_bounds(2002, 5)


def test_report_is_due_on_the_90th_day_after_its_quarter_ends() -> None:
    assert report_deadline(date(2002, 9, 30)) == date(2002, 12, 29)
    assert report_deadline(date(2003, 12, 31)) == date(2004, 3, 30)  # 2004 is a leap year


def test_quarters_between_lists_every_quarter_touched() -> None:
    assert quarters_between(date(2002, 5, 16), date(2003, 1, 1)) == [(2002, 2), (2002, 3), (2002, 4), (2003, 1)]
    assert quarters_between(date(2002, 6, 30), date(2002, 6, 30)) == [(2002, 2)]


def test_six_year_retention_from_29_february_ends_28_february() -> None:
    assert retention_until(date(2004, 2, 29)) == (date(2010, 2, 28), date(2006, 2, 28))
