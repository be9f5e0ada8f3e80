"""Value detectors: personal data found by what it looks like (T/JNBDA 0003-2025 clauses 7.2, 7.4).

Declared field names (``pii_fields.toml``) catch most personal values; these detectors catch
the rest wherever they sit — a phone number in a buyer message, an e-mail in a remark:

* mainland mobile ``1[3-9]\\d{9}``, with +86 / 0086, spaces or dashes, full-width digits;
* 18-character resident ID numbers with a plausible birth date and a valid GB 11643 check digit;
* e-mail addresses;
* bank card numbers (13–19 digits passing Luhn), only when the field name or the words just
  before say "card" / 卡号 / 账号 — long digit strings are usually order ids.

Digit runs inside longer digit runs never match (an order id is not a phone number), and
identifier fields (``*_id``, ``tid``, ``order_sn``, ``barcode`` …) are not scanned for digit
patterns at all — see ``pii.PiiPolicy.is_identifier_key``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# Full-width ASCII (U+FF01–FF5E) and the ideographic space map one-to-one onto ASCII, so
# offsets in the translated text are offsets in the original.
_HALF_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}

_PHONE = r"(?<!\d)(?<!\d\.)(?:(?:\+|00)?86[-\s]?)?1[3-9]\d(?:[-\s]?\d{4}){2}(?!\d)(?!\.\d)"
_ID_NUMBER = (
    r"(?<![0-9A-Za-z])[1-8]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
    r"(?![0-9A-Za-z])"
)
_EMAIL = r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
_CARD = r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)"

_DIGIT_SCAN = re.compile(f"(?P<id_number>{_ID_NUMBER})|(?P<phone>{_PHONE})")
_EMAIL_RE = re.compile(_EMAIL)
_CARD_RE = re.compile(_CARD)
_MAYBE_PERSONAL = re.compile(r"[0-9@\uff10-\uff19\uff20]")
# Every digit pattern needs at least 11 digits (a mobile number); most strings have fewer.
_ENOUGH_DIGITS = re.compile(r"(?:[^0-9\uff10-\uff19]*[0-9\uff10-\uff19]){11}")
# ...and every digit pattern needs a run of 11 digits with at most one space or dash between
# two of them (phone 3-4-4, ID 18 in a row, card 13-19): a timestamp or an amount has none.
# A necessary condition only, tested in C before any scan; the scan decides.
DIGIT_RUN = re.compile(r"\d(?:[-\s\uff0d]?\d){10}")
_CARD_CONTEXT = re.compile(r"(?:卡号|银行卡|銀行卡|信用卡|储蓄卡|账号|帳號|账户|card|acct|account)",
                           re.IGNORECASE)
_CARD_CONTEXT_WINDOW = 12
_MEMO_MAX_CHARS = 40

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


@dataclass(frozen=True)
class Span:
    """A personal value found inside a string: ``text[start:end]`` is of ``kind``."""

    start: int
    end: int
    kind: str


def id_check_digit_ok(number: str) -> bool:
    """GB 11643: the 18th character is the weighted checksum of the first 17 digits."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper()


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum used by bank cards."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def half_width(text: str) -> str:
    """Full-width digits, letters and symbols → ASCII, keeping every offset."""
    return text.translate(_HALF_WIDTH)


def _card_spans(text: str, *, card_field: bool) -> list[Span]:
    spans = []
    for m in _CARD_RE.finditer(text):
        before = text[max(0, m.start() - _CARD_CONTEXT_WINDOW) : m.start()]
        if not (card_field or _CARD_CONTEXT.search(before)):
            continue
        digits = re.sub(r"\D", "", m.group())
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            spans.append(Span(m.start(), m.end(), "bank_card"))
    return spans


def _scan(plain: str, *, digits: bool, card_field: bool) -> list[Span]:
    spans = [Span(m.start(), m.end(), "email") for m in _EMAIL_RE.finditer(plain)] if "@" in plain else []
    if digits:
        found = [Span(m.start(), m.end(), m.lastgroup or "")
                 for m in _DIGIT_SCAN.finditer(plain)
                 if m.lastgroup == "phone" or id_check_digit_ok(m.group())]
        found += _card_spans(plain, card_field=card_field)
        for span in found:
            if all(span.end <= s.start or span.start >= s.end for s in spans):
                spans.append(span)
        spans.sort(key=lambda s: s.start)
    return spans


def _find(plain: str, start: int, end: int, *, digits: bool, card_field: bool) -> list[Span]:
    """Spans in ``plain[start:end]``; the text between two hits is scanned again on its own,
    because once a hit is replaced by a token its neighbour no longer hides behind it
    (``a@b.com11010519491231002X``: the ID number only shows after the e-mail is gone)."""
    segment = plain[start:end]
    if not _MAYBE_PERSONAL.search(segment):
        return []
    hits = _scan(segment, digits=digits, card_field=card_field)
    out: list[Span] = []
    cursor = start
    for hit in hits:
        if hit.start + start > cursor:
            out += _find(plain, cursor, hit.start + start, digits=digits, card_field=card_field)
        out.append(Span(hit.start + start, hit.end + start, hit.kind))
        cursor = hit.end + start
    if hits and end > cursor:
        out += _find(plain, cursor, end, digits=digits, card_field=card_field)
    return out


def find_pii(text: str, *, digits: bool = True, card_field: bool = False) -> list[Span]:
    """Personal values in ``text``, in order, not overlapping.

    ``digits=False`` (identifier fields) looks for e-mails only; ``card_field=True`` (the field
    name says bank card) accepts any Luhn-valid 13–19 digit run without words around it.
    """
    if "@" not in text and "\uff20" not in text and (
            len(text) < 11 or not DIGIT_RUN.search(text) or not _ENOUGH_DIGITS.match(text)):
        return []
    if len(text) <= _MEMO_MAX_CHARS:
        return list(_find_memo(text, digits, card_field))
    return _find(half_width(text), 0, len(text), digits=digits, card_field=card_field)


@lru_cache(maxsize=65_536)
def _find_memo(text: str, digits: bool, card_field: bool) -> tuple[Span, ...]:
    """Short values repeat across records (times, amounts, ids): scan each once. In memory only."""
    return tuple(_find(half_width(text), 0, len(text), digits=digits, card_field=card_field))
