"""Text encodings of file sources: declared or detected (standard 4.3.4 file collection, 5.2 cleansing).

Merchants' exports arrive as UTF-8 (with or without BOM), GBK or GB18030. Detection reads a
sample and prefers strict decodes — UTF-8 first (a file whose lines are nearly all UTF-8 is
UTF-8; the odd bad line is quarantined on its own), then GB18030 (a superset of GBK) — and asks
charset-normalizer only when neither decodes. GBK declared is read as GB18030, which accepts
every GBK byte sequence and the characters GBK lacks.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes

SAMPLE_BYTES = 256 * 1024
_GB18030_BOM = b"\x84\x31\x95\x33"

DECLARABLE = ("auto", "utf-8", "gbk", "gb18030")


@dataclass(frozen=True)
class TextEncoding:
    """How to decode a file: the Python codec and how many BOM bytes to skip at its start."""

    codec: str
    bom_length: int = 0

    @property
    def is_utf8(self) -> bool:
        return self.codec == "utf-8"


def _normalize(name: str) -> str:
    name = codecs.lookup(name).name
    return "gb18030" if name in ("gbk", "gb2312", "cp936", "gb18030", "hz") else name


def _bom(sample: bytes) -> TextEncoding | None:
    if sample.startswith(codecs.BOM_UTF8):
        return TextEncoding("utf-8", 3)
    if sample.startswith(_GB18030_BOM):
        return TextEncoding("gb18030", 4)
    return None


def _complete_lines(sample: bytes, whole_file: bool) -> bytes:
    """Trim a sample to whole lines so a multi-byte character cut at its end does not fail a decode."""
    if whole_file:
        return sample
    cut = sample.rfind(b"\n")
    return sample[: cut + 1] if cut > 0 else sample


def _mostly_utf8(sample: bytes) -> bool:
    """UTF-8 unless some line fails it and fewer lines prove it (non-ASCII that decodes as UTF-8).

    GBK text with Chinese in it practically never decodes as UTF-8, so a multi-byte line that does
    is evidence; a few stray GBK lines in a UTF-8 export are then quarantined line by line."""
    bad = proof = 0
    for ln in sample.split(b"\n"):
        if ln.isascii():
            continue
        try:
            ln.decode("utf-8")
            proof += 1
        except UnicodeDecodeError:
            bad += 1
    return bad == 0 or proof >= bad


def detect_sample(sample: bytes, *, whole_file: bool = False) -> TextEncoding | None:
    """The encoding of ``sample`` (the start of a file), or None when nothing decodes it."""
    found = _bom(sample)
    if found is not None:
        return found
    body = _complete_lines(sample, whole_file)
    if _mostly_utf8(body):
        return TextEncoding("utf-8")
    try:
        body.decode("gb18030")
        return TextEncoding("gb18030")
    except UnicodeDecodeError:
        pass
    best = from_bytes(body).best()
    if best is None or best.encoding is None:
        return None
    return TextEncoding(_normalize(best.encoding))


def resolve_encoding(path: Path, declared: str = "auto") -> TextEncoding | None:
    """The declared encoding (BOM honoured), or the detected one; None if the file is not text we read."""
    with open(path, "rb") as f:
        sample = f.read(SAMPLE_BYTES)
        whole = len(f.read(1)) == 0
    if declared != "auto":
        codec, bom = _normalize(declared), _bom(sample)
        return TextEncoding(codec, bom.bom_length if bom is not None and bom.codec == codec else 0)
    return detect_sample(sample, whole_file=whole)


def decode_error_reason(raw: bytes, codec: str) -> str | None:
    """``wrong_encoding: not valid utf-8 at byte 12`` if ``raw`` does not decode, else None."""
    try:
        raw.decode(codec)
    except UnicodeDecodeError as e:
        return f"wrong_encoding: not valid {codec} at byte {e.start}"
    return None
