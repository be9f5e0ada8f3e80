"""JSON text in and out of the raw zone, every integer kept exact (standard 4.3.5 a: raw as delivered).

The lake parses and writes payloads with orjson for speed, but orjson reads an integer beyond 64
bits (≥ 2**64, or < -2**63) as a float and refuses to write one. An export that sends a long order
id as a JSON number would land with its last digits lost, and two records differing only there
would hash alike: the second dropped as a duplicate. Such numbers are rare, so the common case
stays orjson's and only what may hold one takes the slower exact path:

* ``loads``: orjson first (it validates, as the lake always has); text holding a run of 20 digits
  or dashes (``-`` + 19 digits is the shortest integer below -2**63) is then read again by the
  stdlib ``json``, which keeps every integer exact. The check is one ``bytes.translate`` and a
  substring search, about a tenth of orjson's own parse.
* ``dumps``: orjson; only when it refuses an integer are such integers spliced in verbatim as
  ``orjson.Fragment``, so every other value keeps orjson's form.

A payload without such an integer gives orjson's bytes, unchanged: content hashes of records
landed by an earlier ecfusion stay the same, and re-landing them still counts as duplicates.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson

# Digits and '-' all become '0': a run of 20 marks a possible integer beyond 64 bits. A false
# alarm (a 20-digit string, "123-4567…") only costs the stdlib's slower parse.
_DIGITS_AND_DASH = bytes.maketrans(b"-123456789", b"0" * 10)
_LONG_RUN = b"0" * 20
_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1  # what orjson reads and writes as an int


def loads(text: bytes | str) -> Any:
    """``orjson.loads``, but integers of any size come back exact; raises ``orjson.JSONDecodeError``."""
    value = orjson.loads(text)
    raw = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    if _LONG_RUN not in raw.translate(_DIGITS_AND_DASH):  # no run of 20 digits or dashes: no such integer
        return value
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as e:  # past the stdlib's nesting or digit limits
        doc = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        raise orjson.JSONDecodeError(f"cannot keep its integers exact: {type(e).__name__}", doc, 0) from e


def dumps(value: Any, *, option: int | None = None, default: Callable[[Any], Any] | None = None) -> bytes:
    """``orjson.dumps``, but an integer beyond 64 bits is written with every digit, not refused."""
    try:
        return orjson.dumps(value, default=default, option=option)
    except TypeError:
        exact, changed = _long_integers_as_fragments(value)
        if not changed:
            raise
        return orjson.dumps(exact, default=default, option=option)


def _long_integers_as_fragments(value: Any) -> tuple[Any, bool]:
    """A copy of ``value`` with each integer orjson refuses as its digits (a dict key: as text, as
    ``OPT_NON_STR_KEYS`` writes any int key); whether any was found."""
    if isinstance(value, int) and not isinstance(value, bool):
        if _INT_MIN <= value <= _INT_MAX:
            return value, False
        return orjson.Fragment(str(value).encode()), True
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        changed = False
        for k, v in value.items():
            if isinstance(k, int) and not isinstance(k, bool) and not _INT_MIN <= k <= _INT_MAX:
                k, changed = str(k), True
            out[k], inner = _long_integers_as_fragments(v)
            changed = changed or inner
        return out, changed
    if isinstance(value, (list, tuple)):
        pairs = [_long_integers_as_fragments(v) for v in value]
        return [p[0] for p in pairs], any(p[1] for p in pairs)
    return value, False
