"""File readers for the collection layer: CSV, Excel, JSON, JSONL, XML (standard 4.3.4, 5.1 b).

Each reader streams ``FileItem``s — a parsed record, or the exact bytes of an input that could
not be parsed with the reason — and a resume position after each item, so a landing can stop
anywhere and continue. Line formats (JSONL, CSV) resume at a byte offset; whole-document formats
(JSON, XML, Excel) resume by skipping the records already landed. A file that cannot be read at
all raises ``Unreadable``; the caller quarantines it whole.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import orjson

from ecfusion.lake import jsontext
from ecfusion.lake.encoding import TextEncoding, decode_error_reason, resolve_encoding

FORMATS = ("csv", "xlsx", "json", "jsonl", "xml")
_SUFFIX_FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".xml": "xml",
}


class Unreadable(Exception):  # noqa: N818 - a signal to quarantine the whole file, not a user-facing error
    """The file as a whole cannot be read; ``reason`` says why (``malformed_json: …``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Position:
    """Where a reader resumes: byte offset and line (line formats), items already consumed (all)."""

    offset: int = 0
    line: int = 0
    ordinal: int = 0


@dataclass(slots=True)
class FileItem:
    """One record read, or one input quarantined (``record`` None, ``raw`` and ``reason`` set)."""

    record: dict[str, Any] | None
    raw: bytes | None
    reason: str | None
    location: str
    after: Position


def sniff_format(path: Path) -> str | None:
    return _SUFFIX_FORMATS.get(path.suffix.lower())


def _text_encoding(path: Path, declared: str) -> TextEncoding:
    enc = resolve_encoding(path, declared)
    if enc is None:
        raise Unreadable("wrong_encoding: no supported text encoding (utf-8, gbk, gb18030) decodes this file")
    return enc


def _json_error_reason(raw: bytes | str) -> str:
    try:
        json.loads(raw)
    except json.JSONDecodeError as e:
        return f"malformed_json: {e.msg} at col {e.colno}"
    except (UnicodeDecodeError, RecursionError) as e:
        return f"malformed_json: {type(e).__name__}"
    return "malformed_json: not parseable"


def _not_an_object(value: Any) -> str:
    return f"not_an_object: a record must be a JSON object, got {type(value).__name__}"


# -- JSONL ----------------------------------------------------------------------------------------


def read_jsonl(
    path: Path, label: str, encoding: str = "auto", start: Position = Position()
) -> Iterator[FileItem]:
    """One JSON object per line; a bad line is quarantined byte for byte, the rest lands. A line that
    is a platform's whole API response (a crawler's page per line) gives its records
    (``_api_response_records``): every one but the line's last resumes at the line's start, so a
    landing cut between them reads the line again (the content hash drops what had landed)."""
    enc = _text_encoding(path, encoding)
    offset, line, ordinal = max(start.offset, enc.bom_length), start.line, start.ordinal
    with open(path, "rb") as f:
        f.seek(offset)
        for raw in f:
            begun = Position(offset, line, ordinal)
            offset += len(raw)
            line += 1
            body = raw.rstrip(b"\r\n")
            if not body.strip():
                continue
            location = f"{label}:{line}"
            item = _jsonl_item(body, enc, location, Position(offset, line, ordinal + 1))
            try:
                records = _api_response_records(item.record) if item.record is not None else None
            except Unreadable as e:  # a page the platform refused: the line is quarantined with its message
                item, records = FileItem(None, body, e.reason, location, item.after), None
            if records is None:
                ordinal += 1
                yield item
                continue
            for i, record in enumerate(records, start=1):
                ordinal += 1
                after = Position(offset, line, ordinal) if i == len(records) else begun
                yield FileItem(record, None, None, f"{location}[{i - 1}]", after)


def _jsonl_item(body: bytes, enc: TextEncoding, location: str, after: Position) -> FileItem:
    try:
        value = jsontext.loads(body if enc.is_utf8 else body.decode(enc.codec))
    except UnicodeDecodeError:
        return FileItem(None, body, decode_error_reason(body, enc.codec), location, after)
    except orjson.JSONDecodeError:
        bad = decode_error_reason(body, enc.codec)
        reason = bad or _json_error_reason(body if enc.is_utf8 else body.decode(enc.codec))
        return FileItem(None, body, reason, location, after)
    if not isinstance(value, dict):
        return FileItem(None, body, _not_an_object(value), location, after)
    return FileItem(value, None, None, location, after)


# -- CSV ------------------------------------------------------------------------------------------


class _CsvLines:
    """Decoded physical lines for ``csv.reader``, remembering their bytes, offsets and bad lines."""

    def __init__(self, f: io.BufferedReader, enc: TextEncoding, offset: int, line: int) -> None:
        self.f, self.enc = f, enc
        self.offset, self.line = offset, line
        self.raw: list[bytes] = []
        self.first_line = line + 1
        self.bad: list[tuple[bytes, str, int]] = []

    def __iter__(self) -> _CsvLines:
        return self

    def __next__(self) -> str:
        while True:
            raw = self.f.readline()
            if not raw:
                raise StopIteration
            self.offset += len(raw)
            self.line += 1
            try:
                text = raw.decode(self.enc.codec)
            except UnicodeDecodeError:
                self.bad.append(
                    (raw.rstrip(b"\r\n"), decode_error_reason(raw, self.enc.codec) or "", self.line)
                )
                continue
            if not self.raw:
                self.first_line = self.line
            self.raw.append(raw)
            return text

    def take_raw(self) -> tuple[bytes, int]:
        raw, first = b"".join(self.raw).rstrip(b"\r\n"), self.first_line
        self.raw = []
        return raw, first


def _header(names: list[str]) -> list[str]:
    out: list[str] = []
    seen: Counter[str] = Counter()
    for i, name in enumerate(names, start=1):
        name = name.strip().lstrip("\ufeff") or f"column_{i}"
        seen[name] += 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


class _Delimited(csv.excel):
    """Excel's CSV quoting with the delimiter the header row uses."""


def _csv_dialect(header: str, path: Path) -> type[csv.Dialect]:
    """The delimiter is the one the header row uses most (``,`` ``\\t`` ``;`` ``|``); data rows are
    not consulted, since free text in them (addresses, remarks) is full of commas and semicolons."""
    if path.suffix.lower() == ".tsv":
        return csv.excel_tab
    counts = {d: header.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return type("_Delimited", (_Delimited,), {"delimiter": best if counts[best] else ","})


def read_csv(
    path: Path, label: str, encoding: str = "auto", start: Position = Position()
) -> Iterator[FileItem]:
    """A header row, then one record per row; rows of the wrong width or encoding are quarantined."""
    enc = _text_encoding(path, encoding)
    with open(path, "rb") as f:
        f.seek(enc.bom_length)
        head = f.readline()
        try:
            head_text = head.decode(enc.codec)
        except UnicodeDecodeError as e:
            raise Unreadable(f"wrong_encoding: header row is not valid {enc.codec} at byte {e.start}") from e
        dialect = _csv_dialect(head_text, path)
        names = _header(next(csv.reader([head_text], dialect), []))
        if not names:
            raise Unreadable("empty_file: no header row")
        offset = max(start.offset, enc.bom_length + len(head))
        f.seek(offset)
        lines = _CsvLines(f, enc, offset, max(start.line, 1))
        yield from _csv_rows(lines, csv.reader(lines, dialect), names, label, start.ordinal)


def _csv_rows(
    lines: _CsvLines, rows: Iterator[list[str]], names: list[str], label: str, ordinal: int
) -> Iterator[FileItem]:
    while True:
        try:
            row: list[str] | None = next(rows)
            error = None
        except StopIteration:
            row, error = None, None
        except csv.Error as e:
            row, error = [], f"bad_row: {e}"
        for raw, reason, ln in lines.bad:
            ordinal += 1
            yield FileItem(None, raw, reason, f"{label}:{ln}", Position(lines.offset, lines.line, ordinal))
        lines.bad = []
        if row is None:
            return
        raw, first = lines.take_raw()
        if not row and error is None:
            continue
        ordinal += 1
        after = Position(lines.offset, lines.line, ordinal)
        if error is None and len(row) != len(names):
            error = f"bad_row: expected {len(names)} fields, got {len(row)}"
        if error is not None:
            yield FileItem(None, raw, error, f"{label}:{first}", after)
        else:
            yield FileItem(dict(zip(names, row, strict=True)), None, None, f"{label}:{first}", after)


# -- JSON -----------------------------------------------------------------------------------------


# the envelope keys beside ``data`` in Douyin's and Kuaishou's responses (platforms.md)
_ENVELOPE_KEYS = {"code", "msg", "message", "sub_code", "sub_msg", "log_id", "request_id", "result",
                  "success", "error_msg", "host_name"}


def _api_response_records(doc: dict[str, Any]) -> list[Any] | None:
    """The records of a platform's API response saved whole (platforms.md), or None when ``doc`` is
    not one: ``{"<api>_response": …}`` (Taobao, Pinduoduo; JD's ``…_responce``) or ``{"code": …,
    "data": {…}}`` (Douyin, Kuaishou), then down the one object per level to the one list of
    objects (``trades.trade``, ``searchorderinfo_result.orderInfoList``, ``shop_order_list``). A
    response without such a list is an empty page: no record. An error response is unreadable."""
    if len(doc) == 1 and "error_response" in doc:
        error = doc["error_response"] if isinstance(doc["error_response"], dict) else {}
        told = ("code", "error_code", "msg", "error_msg", "sub_msg", "zh_desc")
        said = " ".join(str(error[k]) for k in told if error.get(k) not in (None, ""))
        raise Unreadable(f"api_error: the platform's error response ({said or 'no message'}), not records")
    if len(doc) == 1 and next(iter(doc)).endswith(("_response", "_responce")):
        node = next(iter(doc.values()))
    elif isinstance(doc.get("data"), dict) and set(doc) - {"data"} <= _ENVELOPE_KEYS and len(doc) > 1:
        node = doc["data"]
    else:
        return None
    for _ in range(4):
        if not isinstance(node, dict):
            break
        lists = [v for v in node.values() if isinstance(v, list) and all(isinstance(x, dict) for x in v)]
        if len(lists) == 1:
            return lists[0]
        objects = [v for v in node.values() if isinstance(v, dict)]
        if len(lists) > 1 or len(objects) != 1:
            break
        node = objects[0]
    return []


def _json_records(doc: Any) -> list[Any]:
    """An array is its elements; a platform's whole API response, its records
    (``_api_response_records``); ``{"data": [...]}``-style wrappers (one list value) are unwrapped;
    any other object is one record."""
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict) and (records := _api_response_records(doc)) is not None:
        return records
    if isinstance(doc, dict):
        lists = [v for v in doc.values() if isinstance(v, list)]
        if len(lists) == 1 and all(isinstance(x, dict) for x in lists[0]) and len(doc) <= 3:
            return lists[0]
        return [doc]
    return [doc]


def read_json(
    path: Path, label: str, encoding: str = "auto", start: Position = Position()
) -> Iterator[FileItem]:
    """A JSON document: an array of records or an object (see ``_json_records``)."""
    enc = _text_encoding(path, encoding)
    data = path.read_bytes()[enc.bom_length :]
    try:
        text: bytes | str = data if enc.is_utf8 else data.decode(enc.codec)
        doc = jsontext.loads(text)
    except UnicodeDecodeError as e:
        raise Unreadable(f"wrong_encoding: not valid {enc.codec} at byte {e.start}") from e
    except orjson.JSONDecodeError as e:
        raise Unreadable(_json_error_reason(text)) from e
    for i, value in enumerate(_json_records(doc), start=1):
        if i <= start.ordinal:
            continue
        after = Position(ordinal=i)
        if isinstance(value, dict):
            yield FileItem(value, None, None, f"{label}:[{i - 1}]", after)
        else:
            yield FileItem(None, jsontext.dumps(value), _not_an_object(value), f"{label}:[{i - 1}]", after)


# -- XML ------------------------------------------------------------------------------------------

_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*encoding=[\"']([A-Za-z0-9_.-]+)[\"']")


def _xml_bytes(path: Path, encoding: str) -> bytes:
    """The document as bytes expat can read: non-UTF-8 text is re-encoded (expat lacks GBK)."""
    data = path.read_bytes()
    declared = _XML_DECL.match(data[:200])
    codec = declared.group(1).decode() if declared else None
    enc = _text_encoding(path, encoding if encoding != "auto" else (codec or "auto"))
    if enc.is_utf8 and enc.bom_length == 0:
        return data
    try:
        text = data[enc.bom_length :].decode(enc.codec)
    except UnicodeDecodeError as e:
        raise Unreadable(f"wrong_encoding: not valid {enc.codec} at byte {e.start}") from e
    text = re.sub(r"^(\s*<\?xml[^>]*encoding=[\"'])[A-Za-z0-9_.-]+", r"\1utf-8", text, count=1)
    return text.encode("utf-8")


def _record_depth_and_tag(data: bytes) -> tuple[int, str]:
    """First pass: the shallowest element that repeats under one parent holds the records.

    Also validates the whole document before anything lands."""
    from defusedxml.ElementTree import iterparse

    counts: Counter[tuple[int, str, int]] = Counter()
    stack: list[int] = []  # id of each open element's parent occurrence
    serial = 0
    try:
        for event, el in iterparse(io.BytesIO(data), events=("start", "end")):
            if event == "start":
                serial += 1
                counts[(len(stack), el.tag, stack[-1] if stack else 0)] += 1
                stack.append(serial)
            else:
                stack.pop()
                el.clear()
    except Exception as e:  # ParseError and defusedxml's forbidden-construct errors
        raise Unreadable(f"malformed_xml: {e}") from e
    repeated = sorted((depth, tag) for (depth, tag, _), n in counts.items() if n >= 2 and depth >= 1)
    if repeated:
        return repeated[0]
    children = sorted((depth, tag) for (depth, tag, _) in counts if depth == 1)
    if children:
        return children[0]
    raise Unreadable("empty_document: the XML root holds no record elements")


def element_value(el: Any) -> Any:
    """An element as JSON: attributes as ``@name``, repeated children as lists, text as ``#text``."""
    children = list(el)
    text = (el.text or "").strip()
    if not children and not el.attrib:
        return text
    out: dict[str, Any] = {f"@{k}": v for k, v in el.attrib.items()}
    for child in children:
        value = element_value(child)
        if child.tag in out:
            prev = out[child.tag]
            out[child.tag] = [*prev, value] if isinstance(prev, list) else [prev, value]
        else:
            out[child.tag] = value
    if text:
        out["#text"] = text
    return out


def read_xml(
    path: Path, label: str, encoding: str = "auto", start: Position = Position()
) -> Iterator[FileItem]:
    """Records are the repeated child elements (``<orders><order>…</order>…</orders>``)."""
    from defusedxml.ElementTree import iterparse

    data = _xml_bytes(path, encoding)
    depth, tag = _record_depth_and_tag(data)
    level, ordinal = 0, 0
    for event, el in iterparse(io.BytesIO(data), events=("start", "end")):
        if event == "start":
            level += 1
            continue
        level -= 1
        if level != depth or el.tag != tag:
            continue
        ordinal += 1
        if ordinal > start.ordinal:
            value = element_value(el)
            record = value if isinstance(value, dict) else {tag: value}
            yield FileItem(record, None, None, f"{label}:{tag}[{ordinal}]", Position(ordinal=ordinal))
        el.clear()


# -- Excel ----------------------------------------------------------------------------------------


def _cell(value: Any) -> Any:
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return value


def read_xlsx(
    path: Path, label: str, encoding: str = "auto", start: Position = Position()
) -> Iterator[FileItem]:
    """Every sheet: first non-empty row is the header, each further non-empty row a record."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # zipfile.BadZipFile, KeyError, InvalidFileException, ...
        raise Unreadable(f"unreadable_xlsx: {type(e).__name__}: {e}") from e
    ordinal = 0
    try:
        for ws in wb.worksheets:
            names: list[str] | None = None
            for r, row in enumerate(ws.iter_rows(values_only=True), start=1):
                if all(v is None or v == "" for v in row):
                    continue
                if names is None:
                    cells = list(row)
                    while cells and (cells[-1] is None or cells[-1] == ""):
                        cells.pop()  # read-only sheets pad every row to the widest one
                    names = _header(["" if v is None else str(v) for v in cells])
                    continue
                ordinal += 1
                if ordinal <= start.ordinal:
                    continue
                yield FileItem(
                    _sheet_record(names, row),
                    None,
                    None,
                    f"{label}:{ws.title}!{r}",
                    Position(ordinal=ordinal),
                )
    except Exception as e:  # a sheet corrupt past its first rows: the rest of the file is quarantined
        raise Unreadable(f"unreadable_xlsx: {type(e).__name__} after {ordinal} records: {e}") from e
    finally:
        wb.close()


def _sheet_record(names: list[str], row: tuple[Any, ...]) -> dict[str, Any]:
    """A row under its header; cells right of the header keep their values as ``column_N``."""
    record = {name: _cell(row[i]) if i < len(row) else None for i, name in enumerate(names)}
    for i in range(len(names), len(row)):
        if row[i] is not None and row[i] != "":
            record[f"column_{i + 1}"] = _cell(row[i])
    return record


Reader = Callable[[Path, str, str, Position], Iterator[FileItem]]
READERS: dict[str, Reader] = {
    "jsonl": read_jsonl,
    "csv": read_csv,
    "json": read_json,
    "xml": read_xml,
    "xlsx": read_xlsx,
}
OFFSET_FORMATS = frozenset({"jsonl", "csv"})
