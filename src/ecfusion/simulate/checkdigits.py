"""Check digits of the identifiers the simulated merchant writes (issue 2, Build §3).

* GB 11643-1999 citizen identity numbers: 17 digits + a mod 11-2 check character (0-9 or X).
* GTIN-13 (EAN-13) barcodes: 12 digits + a mod 10 check digit; Chinese products start with 69.

Standardization and entity resolution (T/JNBDA 0003-2025 clause 6.1.3) validate both, so the
generator must produce them correctly (and tests assert that it does).
"""

from __future__ import annotations

from operator import mul

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def gb11643_check_char(first17: str) -> str:
    """The 18th character of a citizen identity number whose first 17 digits are given."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError(f"identity number body must be 17 digits, got {first17!r}")
    total = sum(map(mul, map(int, first17), _ID_WEIGHTS))  # lengths checked above
    return _ID_CHECK[total % 11]


def gtin13_check_digit(first12: str) -> str:
    """The 13th digit of a GTIN-13 whose first 12 digits are given."""
    if len(first12) != 12 or not first12.isdigit():
        raise ValueError(f"GTIN-13 body must be 12 digits, got {first12!r}")
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return str((10 - total % 10) % 10)
