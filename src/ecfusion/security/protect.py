"""Replace every personal value of a payload by its token before it lands (T/JNBDA 0003-2025 7.4).

``protect(cipher, payload, source=, platform=, subject_hint=)`` walks nested dicts and lists and
returns a copy in which

* each declared personal field (``pii_fields.toml``) is a whole-value token, masked copies and
  platform ciphertext included (without a blind index: equal masks are not the same person);
* each phone number, ID number, e-mail or bank card found by the value detectors
  (``detectors``) in any other string becomes a token — the whole value if it is nothing else,
  otherwise an inline ``⟦token⟧`` inside the text;
* identifiers (order ids, SKU ids, barcodes, timestamps, amounts) are left alone.

The input is never modified: the containers holding a personal value are copied (shallowly,
along their route from the root), every other branch is shared with the input. The walk is
iterative, so no nesting depth makes it crash.

Speed (landing runs this on every record): the decisions for a path (declared kind, how the
detectors treat the field name) are compiled once per source into a tree of ``_Field``; a string
goes to the detectors only if a C-level necessary condition holds (``@``, or 11 digits in a run)
and it was not found clean before; tokens of an unchanged value of the same subject are reused
within the process (``FieldCipher.seal_repeatable``).

**Subject rule** (whose key encrypts the values; destroying it shreds them): the first non-empty
``subject_keys`` field of the platform → ``<platform>:<value>`` (Taobao ``buyer_open_uid`` /
``buyer_nick``, JD ``pin`` / ``open_id_buyer``, Douyin ``doudian_open_id``); a declared
``subject_namespace`` replaces the platform (CRM members and POS sales share ``member:<card no>``)
and a ``subject_platform_field`` names it per record (a ticket about a JD order is
``jd:<pin>``, the same subject as the JD order); else the first real (unmasked) phone →
``phone:<blind index>`` (the same across platforms, so an erasure by phone number finds it);
else ``<platform>:record:<subject_hint>`` (the record key); else ``<platform>:content:<hash>``.

``ProtectBatch`` protects a chunk: it walks every payload first, ensures the data keys of all
subjects in one key-store transaction (durable before any ciphertext exists), then encrypts.

Beside each whole-value phone token it writes the number's region (``<field>_region``, see
``derived``): the only moment the plaintext number exists to derive it from.
"""

from __future__ import annotations

import gc
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson

from ecfusion.lake import jsontext
from ecfusion.security.derived import add_phone_region
from ecfusion.security.detectors import DIGIT_RUN, find_pii
from ecfusion.security.pii import KeyClass
from ecfusion.security.tokens import INLINE_TOKEN, TOKEN_PREFIX, inline, is_token

if TYPE_CHECKING:
    from ecfusion.security.fields import FieldCipher
    from ecfusion.security.pii import FieldRules, PiiPolicy

_NONCE = 12
_PLATFORM_CIPHERTEXT_MARKS = (("##", "##"), ("$$", "$$"), ("~", "~"))
_FREE_TEXT = KeyClass(identifier=False, card=False, phone=False)


class Protected(NamedTuple):
    """One protected payload: the copy with tokens, how many values were replaced, whose key."""

    payload: Any
    pii_count: int
    subject: str


class _Slot:
    """A personal value waiting for its token: ``container[key]`` (whole value or spans in it).

    ``route`` is the chain of keys from the payload holder to ``container``; the input is never
    written to, so only the containers on a route are copied when the tokens go in."""

    __slots__ = ("route", "key", "kind", "value", "matchable", "spans", "path", "declared")

    def __init__(self, route: tuple[Any, ...], key: Any, kind: str, value: str, matchable: bool,
                 spans: list[tuple[int, int, str]] | None = None, path: tuple[str, ...] = (),
                 declared: bool = False) -> None:
        self.route = route
        self.key = key
        self.kind = kind
        self.value = value
        self.matchable = matchable
        self.spans = spans
        self.path = path
        self.declared = declared


@dataclass
class _Found:
    payload: Any
    slots: list[_Slot] = field(default_factory=list)
    subject: str = ""


def is_unmatchable(value: str, key: str) -> bool:
    """Masked copies (``138****5678``) and platform ciphertext match nothing: no blind index."""
    return _masked_name(key) or _unmatchable_value(value)


def _masked_name(key: str) -> bool:
    return key.lower().startswith(("encrypt", "mask"))


def _unmatchable_value(value: str) -> bool:
    if "*" in value or "＊" in value:
        return True
    if len(value) <= 16 or value[0] not in "#$~":
        return False
    return any(value.startswith(a) and value.endswith(b) for a, b in _PLATFORM_CIPHERTEXT_MARKS)


def _scalar_text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    return None


_CLEAN_MEMO = 100_000  # strings remembered as holding no personal value, per scan mode
_MAX_CHILDREN = 2_000  # field names remembered under one path (payloads keyed by ids have more)


class _Field:
    """The compiled decision for one path of a source's payloads: declared kind, how the value
    detectors treat it, and the fields under it. Decided once per path, not once per value."""

    __slots__ = ("rules", "policy", "path", "name", "kind", "masked", "scan_digits", "card",
                 "phone", "scan_mode", "children")

    def __init__(self, rules: FieldRules, policy: PiiPolicy, path: tuple[str, ...], name: str) -> None:
        self.rules, self.policy, self.path, self.name = rules, policy, path, name
        self.kind = rules.kind_for(path) if path else None
        key_class = policy.classify_key(name) if name else _FREE_TEXT
        self.masked = _masked_name(name)
        self.scan_digits = not key_class.identifier
        self.card = key_class.card
        self.phone = key_class.phone
        self.scan_mode = 2 * self.scan_digits + self.card  # index of the walker's clean memo
        self.children: dict[str, _Field] = {}

    def child(self, key: Any) -> _Field:
        name = str(key)
        made = _Field(self.rules, self.policy, (*self.path, name.lower()), name)
        if key.__class__ is str and len(self.children) < _MAX_CHILDREN:
            self.children[key] = made
        return made


class _Walker:
    """Finds where a payload's personal values are, without copying or changing it."""

    def __init__(self, policy: PiiPolicy, rules: FieldRules) -> None:
        self.policy = policy
        self.rules = rules
        self.root = _Field(rules, policy, (), "")
        # Strings the detectors found nothing in, per scan mode: statuses, titles and times
        # repeat across records and an order's versions. In memory only.
        self._clean: tuple[set[str], ...] = (set(), set(), set(), set())

    def walk(self, payload: Any) -> _Found:
        """Depth first in document order (the first phone found may choose the subject);
        iterative, so no nesting depth makes it crash."""
        found = _Found(payload=payload)
        text = self._text
        clean = self._clean
        digit_run = DIGIT_RUN.search
        # (iterator over a container, its field, the fields under it, route to it, is a dict)
        stack: list[tuple[Any, _Field, dict[str, _Field], tuple[Any, ...], bool]] = [
            (iter(((0, payload),)), self.root, {}, (), False)]
        while stack:
            items, owner, children, route, keyed = stack[-1]
            for key, value in items:
                fld = (children.get(key) or owner.child(key)) if keyed else owner
                cls = value.__class__
                if cls is str:
                    # Declared, or could hold what a detector finds (a C-level necessary
                    # condition) and was not found clean before: only then the Python scan.
                    if value and (fld.kind is not None or (
                            ("@" in value or "\uff20" in value or (
                                fld.scan_digits and len(value) >= 11 and digit_run(value)))
                            and value not in clean[fld.scan_mode])):
                        text(found, fld, value, route, key)
                elif cls is int:
                    if fld.kind is not None or fld.phone:
                        text(found, fld, str(value), route, key)
                elif cls is dict:
                    stack.append((iter(value.items()), fld, fld.children, (*route, key), True))
                    break
                elif cls is list or cls is tuple:
                    stack.append((enumerate(value), fld, {}, (*route, key), False))
                    break
                elif isinstance(value, dict):
                    stack.append((iter(value.items()), fld, fld.children, (*route, key), True))
                    break
                elif isinstance(value, (list, tuple)):
                    stack.append((enumerate(value), fld, {}, (*route, key), False))
                    break
                elif isinstance(value, str):  # str / int subclasses
                    if value:
                        text(found, fld, str(value), route, key)
                elif (isinstance(value, int) and not isinstance(value, bool)
                      and (fld.kind is not None or fld.phone)):
                    text(found, fld, str(value), route, key)
            else:
                stack.pop()
        return found

    def _text(self, found: _Found, fld: _Field, text: str, route: tuple[Any, ...], key: Any) -> None:
        if fld.kind is not None:
            if text.strip() and not (text.startswith(TOKEN_PREFIX) and is_token(text)):
                found.slots.append(_Slot(route, key, fld.kind, text,
                                         not (fld.masked or _unmatchable_value(text)),
                                         path=fld.path, declared=True))
            return
        if text.startswith(TOKEN_PREFIX) and is_token(text):
            return
        spans = find_pii(text, digits=fld.scan_digits, card_field=fld.card)
        if spans and TOKEN_PREFIX in text:
            spans = _outside_tokens(text, spans)
        if not spans:
            clean = self._clean[fld.scan_mode]
            if len(clean) >= _CLEAN_MEMO:
                clean.clear()
            clean.add(text)
            return
        if len(spans) == 1 and spans[0].start == 0 and spans[0].end == len(text):
            found.slots.append(_Slot(route, key, spans[0].kind, text, True, path=fld.path))
        else:
            found.slots.append(_Slot(route, key, spans[0].kind, text, True,
                                     [(s.start, s.end, s.kind) for s in spans], path=fld.path))


def _outside_tokens(text: str, spans: list[Any]) -> list[Any]:
    """Drop detector hits inside tokens already in the text (protecting twice changes nothing)."""
    taken = [(m.start(), m.end()) for m in INLINE_TOKEN.finditer(text)]
    return [s for s in spans if all(s.end <= a or s.start >= b for a, b in taken)]


def _subject_from_keys(payload: Any, rules: FieldRules, platform: str) -> str | None:
    if not isinstance(payload, dict):
        return None
    prefix = rules.subject_namespace or platform
    if rules.subject_platform_field:
        named = _scalar_text(_field(payload, rules.subject_platform_field))
        if named and named.strip():
            prefix = named.strip()
    for path in rules.subject_keys:
        node: Any = payload
        for part in path:
            node = _field(node, part) if isinstance(node, dict) else None
        text = _scalar_text(node)
        if text and text.strip() and "*" not in text:
            return f"{prefix}:{text.strip()}"
    return None


def _field(record: dict[Any, Any], lower_name: str) -> Any:
    """``record[lower_name]``, matching the key case-insensitively (declarations are lower-case)."""
    if lower_name in record:
        return record[lower_name]
    return next((v for k, v in record.items() if str(k).lower() == lower_name), None)


def _first_real_phone(found: _Found) -> str | None:
    for slot in found.slots:
        if slot.spans is None:
            if slot.kind == "phone" and slot.matchable:
                return slot.value
            continue
        for start, end, kind in slot.spans:
            if kind == "phone":
                return slot.value[start:end]
    return None


def _choose_subject(cipher: FieldCipher, original: Any, found: _Found, rules: FieldRules, *,
                    platform: str, subject_hint: str | None) -> str:
    subject = _subject_from_keys(original, rules, platform)
    if subject:
        return subject
    phone = _first_real_phone(found)
    if phone:
        return f"phone:{cipher.blind_index('phone', phone)}"
    if subject_hint:
        return f"{platform}:record:{subject_hint}"
    return f"{platform}:content:{cipher.content_hash(_canonical(original, found))}"


def _canonical(original: Any, found: _Found) -> bytes:
    """The bytes a content subject is the keyed hash of: the whole record as sorted-keys JSON.

    ``jsontext.dumps`` gives orjson's own bytes (those of every record landed before), except that
    an integer beyond 64 bits, which orjson refuses, is written with its digits: never a string's
    bytes (those are quoted). Nested deeper than orjson goes (255), the stdlib's JSON writes it.
    Each is JSON of the whole record, so equal bytes are equal records, whichever wrote them."""
    try:
        return jsontext.dumps(original, option=orjson.OPT_SORT_KEYS, default=str)
    except (TypeError, RecursionError):  # orjson.JSONEncodeError is a TypeError
        pass
    try:
        return json.dumps(original, sort_keys=True, separators=(",", ":"), default=str).encode()
    except (TypeError, ValueError, RecursionError):
        # Deeper than Python recurses, or keys that do not sort: the personal values identify it.
        return "\x1e".join(f"{slot.kind}\x1f{slot.value}" for slot in found.slots).encode()


class ProtectBatch:
    """Protect a chunk of payloads with one key-store transaction for all their subjects.

    ``add`` walks a payload (cheap, no crypto) and returns its position; ``run`` ensures every
    subject's key durably, then encrypts and returns one ``Protected`` per payload, in order.
    """

    def __init__(self, cipher: FieldCipher, policy: PiiPolicy | None = None) -> None:
        self.cipher = cipher
        self.policy = policy or cipher.policy
        self._found: list[_Found] = []
        self._walkers: dict[tuple[str, str], _Walker] = {}

    def __len__(self) -> int:
        return len(self._found)

    def add(self, payload: Any, *, source: str, platform: str, subject_hint: str | None = None) -> int:
        walker = self._walkers.get((source, platform))
        if walker is None:
            walker = _Walker(self.policy, self.policy.rules_for(source, platform))
            self._walkers[(source, platform)] = walker
        rules = walker.rules
        found = walker.walk(payload)
        if found.slots:
            found.subject = _choose_subject(self.cipher, payload, found, rules,
                                            platform=platform, subject_hint=subject_hint)
        self._found.append(found)
        return len(self._found) - 1

    def run(self) -> list[Protected]:
        keys = self.cipher.ensure_subjects(f.subject for f in self._found if f.slots)
        nonces = _NonceSource(sum(len(f.slots) + sum(len(s.spans or ()) for s in f.slots)
                                  for f in self._found))
        results = []
        for found in self._found:
            count = 0
            if found.slots:
                subject_id = keys.ids[found.subject]
                erased = subject_id in keys.erased
                copies: dict[tuple[Any, ...], Any] = {(): [found.payload]}
                for slot in found.slots:
                    count += self._fill(_writable(copies, slot.route), slot, subject_id, erased, nonces)
                payload = copies[()][0]
            else:
                payload = _shallow_copy(found.payload)
            results.append(Protected(payload, count, found.subject))
        self._found = []
        return results

    def _fill(self, container: Any, slot: _Slot, subject_id: str, erased: bool,
              nonces: _NonceSource) -> int:
        seal = self.cipher.seal_repeatable
        if slot.spans is None:
            container[slot.key] = seal(slot.kind, slot.value, subject_id, nonces,
                                       matchable=slot.matchable, erased=erased)
            if slot.kind == "phone" and not erased and slot.key.__class__ is str:
                add_phone_region(container, slot.key, slot.value)  # completion at landing (derived)
            return 1
        parts, last = [], 0
        for start, end, kind in slot.spans:
            token = seal(kind, slot.value[start:end], subject_id, nonces, erased=erased)
            parts += [slot.value[last:start], inline(token)]
            last = end
        parts.append(slot.value[last:])
        container[slot.key] = "".join(parts)
        return len(slot.spans)


def _shallow_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, (list, tuple)):
        return list(value)
    return value


def _writable(copies: dict[tuple[Any, ...], Any], route: tuple[Any, ...]) -> Any:
    """The copy of the container at ``route``, copying (shallowly) each container on the way
    that was not copied yet; every other branch of the payload is shared with the input."""
    node = copies.get(route)
    if node is not None:
        return node
    depth = len(route) - 1
    while route[:depth] not in copies:
        depth -= 1
    node = copies[route[:depth]]
    for i in range(depth, len(route)):
        key = route[i]
        node[key] = node = _shallow_copy(node[key])
        copies[route[: i + 1]] = node
    return node


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a chunk is protected. Everything a walk
    allocates is acyclic (freed by reference counting), but its many small objects kept
    triggering full collections that traverse every payload the lake holds in memory: a third
    of a merchant's landing CPU. Re-enabled on exit, also on error."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _NonceSource:
    """Nonces for a whole batch from one ``os.urandom`` call."""

    def __init__(self, count: int) -> None:
        self._pool = os.urandom(_NONCE * max(count, 1))
        self._next = 0

    def __call__(self) -> bytes:
        return self.take()

    def take(self) -> bytes:
        if self._next + _NONCE > len(self._pool):
            return os.urandom(_NONCE)
        nonce = self._pool[self._next : self._next + _NONCE]
        self._next += _NONCE
        return nonce


def protect(cipher: FieldCipher, payload: Any, *, source: str, platform: str,
            subject_hint: str | None = None) -> tuple[Any, int]:
    """One payload → (protected copy, number of personal values replaced)."""
    batch = ProtectBatch(cipher)
    batch.add(payload, source=source, platform=platform, subject_hint=subject_hint)
    result = batch.run()[0]
    return result.payload, result.pii_count


@dataclass(frozen=True)
class Finding:
    """Where ``protect`` would put a token, and why — never the value itself."""

    path: str
    kind: str
    how: str  # "declared", "declared, masked/platform-encrypted", "detected", "detected in text"


def findings(payload: Any, *, source: str, platform: str, policy: PiiPolicy) -> list[Finding]:
    """A dry run of ``protect`` without keys: which fields of a payload are personal and why.
    Used to check a new source's declarations before landing it (``ecfusion privacy scan``)."""
    found = _Walker(policy, policy.rules_for(source, platform)).walk(payload)
    out = []
    for slot in found.slots:
        path = ".".join(slot.path) or "(value)"
        if slot.declared:
            how = "declared" if slot.matchable else "declared, masked/platform-encrypted"
            out.append(Finding(path, slot.kind, how))
        elif slot.spans is None:
            out.append(Finding(path, slot.kind, "detected"))
        else:
            out.extend(Finding(path, kind, "detected in text") for _, _, kind in slot.spans)
    return out
