"""Which values of a payload are personal: declared fields plus value detectors (clauses 7.2, 7.4).

``PiiPolicy`` reads the declarations of ``pii_fields.toml`` (packaged, versioned, validated with
pydantic; a deployment may add its own file on top) and answers, for one source/platform:

* ``rules.kind_for(path)`` — the declared kind of a field, by name or dotted path suffix;
* ``rules.subject_keys`` — where the data subject's account id sits;
* ``is_identifier_key(key)`` / ``is_card_key(key)`` — how the value detectors treat a field.

The walk over a payload and the encryption live in ``protect``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ecfusion.errors import ConfigError
from ecfusion.security.normalize import PiiKind

DEFAULT_POLICY = "pii_fields.toml"

_WORD_SPLIT = re.compile(r"[_\-.\s]+|(?<=[a-z0-9])(?=[A-Z])")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IdentifierWords(_Strict):
    last_words: list[str] = Field(default_factory=list)
    personal_words: list[str] = Field(default_factory=list)
    card_words: list[str] = Field(default_factory=list)
    not_card_words: list[str] = Field(default_factory=list)


class PlatformDeclaration(_Strict):
    subject_keys: list[str] = Field(default_factory=list)
    # Prefix of the subject key instead of the platform name, so that sources naming the same
    # account share one subject (CRM members and POS sales by membership card: "member").
    subject_namespace: str | None = None
    # A field whose value is the platform the account belongs to (tickets, coupons: "platform").
    subject_platform_field: str | None = None
    fields: dict[str, PiiKind] = Field(default_factory=dict)


class PolicyFile(_Strict):
    """The schema of ``pii_fields.toml``."""

    version: str
    identifiers: IdentifierWords = IdentifierWords()
    common: PlatformDeclaration = PlatformDeclaration()
    platforms: dict[str, PlatformDeclaration] = Field(default_factory=dict)
    sources: dict[str, PlatformDeclaration] = Field(default_factory=dict)


def key_words(key: str) -> tuple[str, ...]:
    """``receiverMobile`` → (receiver, mobile); ``id_card_no`` → (id, card, no)."""
    return tuple(w.lower() for w in _WORD_SPLIT.split(key) if w)


_PHONE_WORDS = frozenset({"phone", "mobile", "tel", "telephone", "cellphone"})


@dataclass(frozen=True)
class KeyClass:
    """A field name as the detectors see it: identifier (no digit scan), bank card, phone number."""

    identifier: bool
    card: bool
    phone: bool


@dataclass(frozen=True)
class FieldRules:
    """The declarations in force for one source/platform."""

    subject_keys: tuple[tuple[str, ...], ...]
    by_path: dict[tuple[str, ...], str]
    path_lengths: tuple[int, ...]
    subject_namespace: str | None = None
    subject_platform_field: str | None = None

    def kind_for(self, path: tuple[str, ...]) -> str | None:
        """Declared kind of the field at ``path`` (lower-cased keys, list levels skipped)."""
        if self.path_lengths == (1,):
            return self.by_path.get(path[-1:])
        for n in self.path_lengths:
            if len(path) >= n:
                kind = self.by_path.get(path[-n:])
                if kind is not None:
                    return kind
        return None


def _split_path(rule: str) -> tuple[str, ...]:
    return tuple(part.lower() for part in rule.split("."))


class PiiPolicy:
    """Declared personal fields per platform and source, and the identifier-field heuristics."""

    def __init__(self, declarations: PolicyFile, *, origin: str = DEFAULT_POLICY) -> None:
        self.declarations = declarations
        self.origin = origin
        words = declarations.identifiers
        self._last_words = frozenset(w.lower() for w in words.last_words)
        self._personal_words = frozenset(w.lower() for w in words.personal_words)
        self._card_words = frozenset(w.lower() for w in words.card_words)
        self._not_card_words = frozenset(w.lower() for w in words.not_card_words)
        self._rules: dict[tuple[str, str], FieldRules] = {}
        self._key_classes: dict[str, KeyClass] = {}

    @property
    def version(self) -> str:
        return self.declarations.version

    # ---- loading -----------------------------------------------------------------------------

    @classmethod
    def default(cls) -> PiiPolicy:
        """The packaged declarations (``ecfusion/security/pii_fields.toml``)."""
        return _default_policy()

    @classmethod
    def from_file(cls, path: Path | str) -> PiiPolicy:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (FileNotFoundError, IsADirectoryError, UnicodeDecodeError) as e:
            raise ConfigError(f"cannot read PII policy {path}: {e}", hint="give a UTF-8 TOML file") from e
        return cls.from_text(text, origin=str(path))

    @classmethod
    def from_text(cls, text: str, *, origin: str = "(text)") -> PiiPolicy:
        try:
            data: dict[str, Any] = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{origin}: not valid TOML ({e})", hint="fix the syntax at that line") from e
        try:
            return cls(PolicyFile.model_validate(data), origin=origin)
        except ValidationError as e:
            first = e.errors()[0]
            key = ".".join(str(p) for p in first["loc"])
            raise ConfigError(
                f"{origin}: key '{key}' is invalid ({first['msg']})",
                hint="kinds are phone, id_number, name, address, email, bank_card; "
                "compare with the packaged ecfusion/security/pii_fields.toml",
            ) from e

    def merged(self, extra: PiiPolicy) -> PiiPolicy:
        """This policy with ``extra``'s declarations added (``extra`` wins on conflicts)."""
        base = self.declarations.model_dump()
        more = extra.declarations.model_dump()
        for section in ("platforms", "sources"):
            for name, decl in more[section].items():
                mine = base[section].setdefault(name, PlatformDeclaration().model_dump())
                mine["subject_keys"] = decl["subject_keys"] + [k for k in mine["subject_keys"]
                                                               if k not in decl["subject_keys"]]
                mine["fields"].update(decl["fields"])
                for single in ("subject_namespace", "subject_platform_field"):
                    mine[single] = decl[single] or mine[single]
        base["common"]["fields"].update(more["common"]["fields"])
        for name, words in more["identifiers"].items():
            base["identifiers"][name] = sorted(set(base["identifiers"][name]) | set(words))
        base["version"] = f"{self.version}+{extra.version}"
        return PiiPolicy(PolicyFile.model_validate(base), origin=f"{self.origin}+{extra.origin}")

    # ---- rules ---------------------------------------------------------------------------------

    def rules_for(self, source: str, platform: str) -> FieldRules:
        """Common declarations + the platform's + the configured source's (most specific wins)."""
        cached = self._rules.get((source, platform))
        if cached is not None:
            return cached
        decls = [self.declarations.common]
        for table, name in ((self.declarations.platforms, platform), (self.declarations.sources, source)):
            if name in table:
                decls.append(table[name])
        by_path: dict[tuple[str, ...], str] = {}
        subject_keys: list[tuple[str, ...]] = []
        for decl in decls:
            by_path.update({_split_path(rule): kind for rule, kind in decl.fields.items()})
        for decl in reversed(decls):
            subject_keys.extend(_split_path(k) for k in decl.subject_keys)
        lengths = tuple(sorted({len(p) for p in by_path}, reverse=True))
        namespace = next((d.subject_namespace for d in reversed(decls) if d.subject_namespace), None)
        platform_field = next((d.subject_platform_field for d in reversed(decls) if d.subject_platform_field),
                              None)
        rules = FieldRules(tuple(dict.fromkeys(subject_keys)), by_path, lengths, namespace,
                           platform_field and platform_field.lower())
        self._rules[(source, platform)] = rules
        return rules

    def classify_key(self, key: str) -> KeyClass:
        """How the value detectors treat a field of this name (memoized: names repeat a lot)."""
        known = self._key_classes.get(key)
        if known is None:
            words = set(key_words(key))
            known = KeyClass(identifier=self.is_identifier_key(key), card=self.is_card_key(key),
                             phone=bool(words & _PHONE_WORDS))
            if len(self._key_classes) < 100_000:
                self._key_classes[key] = known
        return known

    def is_identifier_key(self, key: str) -> bool:
        """True if the field holds an identifier or machine value: no digit detectors on it."""
        return _is_identifier(key, self._last_words, self._personal_words)

    def is_card_key(self, key: str) -> bool:
        """True if the field name suggests a bank card (Luhn-valid digits are then a card number)."""
        words = set(key_words(key))
        return bool(words & self._card_words) and not words & self._not_card_words


@lru_cache(maxsize=8192)
def _is_identifier(key: str, last_words: frozenset[str], personal_words: frozenset[str]) -> bool:
    words = key_words(key)
    if not words or set(words) & personal_words:
        return False
    last = words[-1]
    return last in last_words or (last.endswith("id") and len(last) <= 5)


@lru_cache(maxsize=1)
def _default_policy() -> PiiPolicy:
    text = resources.files("ecfusion.security").joinpath(DEFAULT_POLICY).read_text(encoding="utf-8")
    return PiiPolicy.from_text(text, origin=f"ecfusion/security/{DEFAULT_POLICY}")
