"""Replace every personal value of a payload by its token before it lands (T/JNBDA 0003-2025 7.4).

``protect(cipher, payload, source=, platform=, subject_hint=)`` walks nested dicts and lists and
returns a copy in which

* each declared personal field (``pii_fields.toml``) is a whole-value token, masked copies and
  platform ciphertext included (without a blind index: equal masks are not the same person);
* each phone number, ID number, e-mail or bank card found by the value detectors
  (``detectors``) in any other string becomes a token — the whole value if it is nothing else,
  otherwise an inline ``⟦token⟧`` inside the text;
* identifiers (order ids, SKU ids, barcodes, timestamps, amounts) are left alone.

The input is never modified. The walk is iterative, so no nesting depth makes it crash.

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
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson

from ecfusion.security.detectors import find_pii
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


@dataclass
class _Slot:
    """A personal value waiting for its token: ``container[key]`` (whole value or spans in it)."""

    container: Any
    key: Any
    kind: str
    value: str
    matchable: bool
    spans: list[tuple[int, int, str]] | None = None
    path: tuple[str, ...] = ()
    declared: bool = False


@dataclass
class _Found:
    payload: Any
    slots: list[_Slot] = field(default_factory=list)
    subject: str = ""


def is_unmatchable(value: str, key: str) -> bool:
    """Masked copies (``138****5678``) and platform ciphertext match nothing: no blind index."""
    if "*" in value or "＊" in value or key.lower().startswith(("encrypt", "mask")):
        return True
    return len(value) > 16 and any(value.startswith(a) and value.endswith(b)
                                   for a, b in _PLATFORM_CIPHERTEXT_MARKS)


def _scalar_text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    return None


class _Walker:
    """Copies a payload and records where its personal values are."""

    def __init__(self, policy: PiiPolicy, rules: FieldRules) -> None:
        self.policy = policy
        self.rules = rules
        # path -> (declared kind, key class): payloads of one source repeat the same paths.
        self._decisions: dict[tuple[str, ...], tuple[str | None, KeyClass]] = {}

    def _decide(self, path: tuple[str, ...], name: str) -> tuple[str | None, KeyClass]:
        decision = (self.rules.kind_for(path) if path else None,
                    self.policy.classify_key(name) if name else _FREE_TEXT)
        if len(self._decisions) < 50_000:
            self._decisions[path] = decision
        return decision

    def walk(self, payload: Any) -> _Found:
        found = _Found(payload=None)
        holder: list[Any] = [None]
        stack: list[tuple[Any, Any, Any, tuple[str, ...], str]] = [(payload, holder, 0, (), "")]
        leaf = self._leaf
        while stack:
            value, parent, key, path, name = stack.pop()
            kind_of = value.__class__
            if kind_of is str or kind_of is int:
                parent[key] = value
                if value != "":
                    leaf(found, parent, key, value, path, name)
            elif isinstance(value, dict):
                copy: Any = dict.fromkeys(value)  # keeps the key order of the input
                parent[key] = copy
                for k, v in reversed(value.items()):
                    child = str(k)
                    stack.append((v, copy, k, (*path, child.lower()), child))
            elif isinstance(value, (list, tuple)):
                copy = [None] * len(value)
                parent[key] = copy
                for i in range(len(value) - 1, -1, -1):
                    stack.append((value[i], copy, i, path, name))
            else:
                parent[key] = value
                if isinstance(value, (str, int)) and not isinstance(value, bool):
                    leaf(found, parent, key, value, path, name)  # str / int subclasses
        found.payload = holder[0]
        return found

    def _leaf(self, found: _Found, parent: Any, key: Any, value: str | int, path: tuple[str, ...],
              name: str) -> None:
        kind, key_class = self._decisions.get(path) or self._decide(path, name)
        if kind is None and value.__class__ is str and len(value) < 11 and "@" not in value \
                and "\uff20" not in value:
            return  # too short for any detector: the common case, decided without a call
        text = value if isinstance(value, str) else str(value)
        if kind is not None:
            if text.strip() and not is_token(text):
                found.slots.append(_Slot(parent, key, kind, text, not is_unmatchable(text, name),
                                         path=path, declared=True))
            return
        if not isinstance(value, str) and not key_class.phone:
            return
        if text.startswith(TOKEN_PREFIX) and is_token(text):
            return
        spans = find_pii(text, digits=not key_class.identifier, card_field=key_class.card)
        if spans and TOKEN_PREFIX in text:
            spans = _outside_tokens(text, spans)
        if not spans:
            return
        if len(spans) == 1 and spans[0].start == 0 and spans[0].end == len(text):
            found.slots.append(_Slot(parent, key, spans[0].kind, text, True, path=path))
        else:
            found.slots.append(_Slot(parent, key, spans[0].kind, text, True,
                                     [(s.start, s.end, s.kind) for s in spans], path=path))


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
    try:
        return orjson.dumps(original, option=orjson.OPT_SORT_KEYS, default=str)
    except (orjson.JSONEncodeError, TypeError):
        # Nested deeper than orjson goes (or odd keys): the personal values themselves identify it.
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
                for slot in found.slots:
                    count += self._fill(slot, subject_id, erased, nonces)
            results.append(Protected(found.payload, count, found.subject))
        self._found = []
        return results

    def _fill(self, slot: _Slot, subject_id: str, erased: bool, nonces: _NonceSource) -> int:
        seal = self.cipher.seal
        if slot.spans is None:
            slot.container[slot.key] = seal(slot.kind, slot.value, subject_id, nonces.take(),
                                            matchable=slot.matchable, erased=erased)
            return 1
        parts, last = [], 0
        for start, end, kind in slot.spans:
            token = seal(kind, slot.value[start:end], subject_id, nonces.take(), erased=erased)
            parts += [slot.value[last:start], inline(token)]
            last = end
        parts.append(slot.value[last:])
        slot.container[slot.key] = "".join(parts)
        return len(slot.spans)


class _NonceSource:
    """Nonces for a whole batch from one ``os.urandom`` call."""

    def __init__(self, count: int) -> None:
        self._pool = os.urandom(_NONCE * max(count, 1))
        self._next = 0

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
