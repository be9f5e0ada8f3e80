"""Erasure requests served by crypto-shredding (T/JNBDA 0003-2025 clause 7.4 d, 删除请求).

A data subject asks to be deleted. The immutable raw zone is not rewritten: the data key of
each subject id holding their values is destroyed, and every token of it — in every Parquet
file already written, in every backup of the lake — becomes unreadable at once.

Two ways in:

* ``erase_subject(cipher, "taobao:<buyer_open_uid>", reason)`` when the account is known;
* ``erase_person(workspace or cipher, lake_root, phone=…, email=…, id_number=…, reason=…)`` when
  only a personal value is known: its blind index is computed, the lake is scanned (DuckDB over
  the raw Parquet ``payload`` column, no decryption) for tokens carrying it, and every subject id
  found — plus the phone subject ``phone:<blind index>`` — is destroyed. A value that cannot be
  what it is given as (``--phone abc``) is refused before anything is erased.

What stays after erasure: the blind indexes inside tokens (keyed MACs, useless without the
master key) and the non-personal parts of the records (orders, amounts), which is what
"anonymised" analytics keep.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ecfusion.errors import InputError
from ecfusion.interrupt import stoppable
from ecfusion.security.fields import FieldCipher
from ecfusion.security.keystore import ErasureRecord
from ecfusion.security.masks import KIND_NAMES, masked

_DIGEST = re.compile(r"[0-9a-f]{24}")


@dataclass(frozen=True)
class ErasureReport:
    """What an erasure request destroyed."""

    reason: str
    records: list[ErasureRecord] = field(default_factory=list)
    files_scanned: int = 0
    not_held: list[str] = field(default_factory=list)
    """Each value given that no raw file carries, named and masked: ``e-mail s***@example.com``."""

    @property
    def subject_ids(self) -> list[str]:
        return [r.subject_id for r in self.records]


def erase_subject(cipher: FieldCipher, subject: str, reason: str) -> ErasureRecord:
    """Destroy the key of one subject key (``<platform>:<account id>``, ``phone:<blind index>``)."""
    return cipher.erase_subject(subject, reason)


def _raw_files(lake_root: Path) -> list[Path]:
    return sorted((lake_root / "raw").glob("source=*/entity=*/dt=*/*.parquet"))


def subjects_with_value(lake_root: Path | str, kind: str, blind_index: str) -> tuple[set[str], int]:
    """Subject ids of every token in the raw zone whose blind index is ``blind_index``."""
    if not _DIGEST.fullmatch(blind_index) or not re.fullmatch(r"[a-z_]+", kind):
        raise InputError(f"not a blind index: {blind_index!r}",
                         hint="compute it with FieldCipher.blind_index")
    files = _raw_files(Path(lake_root))
    if not files:
        return set(), 0
    pattern = f"ef1:{kind}:([0-9a-f]{{24}}):{blind_index}:"
    con = stoppable(duckdb.connect())
    try:
        rows = con.execute(
            "SELECT DISTINCT unnest(regexp_extract_all(payload, ?, 1)) FROM read_parquet(?) "
            "WHERE contains(payload, ?)",
            [pattern, [str(f) for f in files], blind_index],
        ).fetchall()
    finally:
        con.close()
    return {r[0] for r in rows}, len(files)


def personal_values(*, phone: str | None = None, email: str | None = None,
                    id_number: str | None = None) -> dict[str, str]:
    """The values given, by kind, each checked to be what it claims with the standardization's own
    parsers: a value that is no phone number (``abc``, a masked ``138****5678``), no e-mail or no
    resident ID number (wrong check digit) normalizes to the blind index of some other junk, or of
    nothing, and its erasure would destroy the wrong subjects or report one that holds no data."""
    from ecfusion.standardize.normalize.id_number import normalize_id_number
    from ecfusion.standardize.normalize.personal import normalize_email
    from ecfusion.standardize.normalize.phone import parse_phone

    checks = {
        "phone": (parse_phone, "a phone number",
                  "give a mainland mobile such as 13812345678 or +86 138 1234 5678, or a landline such as "
                  "0571-88886666"),
        "email": (normalize_email, "an e-mail address", "give it as name@example.com"),
        "id_number": (normalize_id_number, "a resident ID number",
                      "give its 18 characters, the last one its GB 11643 check digit, or the old 15 digits"),
    }
    given = {k: v for k, v in (("phone", phone), ("email", email), ("id_number", id_number)) if v}
    for kind, value in given.items():
        parse, what, how = checks[kind]
        if parse(value) is None:
            raise InputError(f"{value!r} is not {what}", hint=f"{how}; nothing was erased")
    return given


def erase_person(cipher: FieldCipher, lake_root: Path | str, *, reason: str, phone: str | None = None,
                 email: str | None = None, id_number: str | None = None) -> ErasureReport:
    """Erase everyone's data keyed to these personal values (a request made by phone, e-mail or ID);
    each is checked first (``personal_values``), and one that is not what it claims erases nothing."""
    given = personal_values(phone=phone, email=email, id_number=id_number)
    if not given:
        raise InputError("an erasure by personal value needs a phone, e-mail or ID number",
                         hint="or erase a known account with erase_subject")
    subject_ids: set[str] = set()
    not_held: list[str] = []
    scanned = 0
    for kind, value in given.items():
        bidx = cipher.blind_index(kind, value)
        found, scanned = subjects_with_value(lake_root, kind, bidx)
        subject_ids |= found
        if not found:
            not_held.append(f"{KIND_NAMES[kind]} {masked(kind, value)}")
        if kind == "phone":
            subject_ids.add(cipher.subject_id(f"phone:{bidx}"))
    records = [cipher.erase_subject_id(sid, reason) for sid in sorted(subject_ids)]
    return ErasureReport(reason, records, scanned, not_held)
