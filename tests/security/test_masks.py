"""How a personal value is shown to a user: masked, the same for every spelling of it."""

from __future__ import annotations

import pytest

from ecfusion.security.masks import masked


@pytest.mark.parametrize(
    ("kind", "value", "shown"),
    [
        ("phone", "13812345678", "138****5678"),
        ("phone", "+86 138-1234-5678", "138****5678"),  # the same number, the same mask
        ("phone", "0571-88886666", "057*****6666"),
        ("email", "Someone@Example.com", "s***@example.com"),
        ("email", "a@b.cn", "a***@b.cn"),  # the stars hide how long the name is
        ("id_number", "11010519491231002x", "110***********002X"),
        ("id_number", "1234567", "*******"),  # too short to show any of it
    ],
)
def test_a_personal_value_is_shown_masked(kind: str, value: str, shown: str) -> None:
    assert masked(kind, value) == shown
