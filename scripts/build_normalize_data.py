"""Regenerate the reference tables shipped in ``ecfusion.standardize.normalize.data``.

Serves T/JNBDA 0003-2025 5.2 Table 1 L3 c (completion: address → province/city/district).
Landline area codes come from phone.dat instead (scripts/build_landline_area_codes.py): jionlp's
table put 0431 in 吉林市 and 0555 in 辽宁.
The tables are extracted ONCE from jionlp (Apache-2.0) so that
ecfusion never depends on jionlp at run time and never downloads anything:

    uv venv /tmp/jiovenv && uv pip install --python /tmp/jiovenv/bin/python jionlp==1.5.31
    /tmp/jiovenv/bin/python scripts/build_normalize_data.py

Outputs (UTF-8, tab separated, diffable):

* ``divisions.tsv``   id, level (1 province, 2 city, 3 district), parent id, adcode, name,
  aliases (``|``-joined) — the three administrative levels, with former names from
  jionlp's change list (e.g. 襄樊市 → 襄阳市) added as aliases of today's division.
* ``SOURCE.md``  its provenance line (package, version, date); the rest is hand-maintained.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import io
import re
import sys
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src/ecfusion/standardize/normalize/data"
PLACEHOLDERS = {"市直辖行政区划", "省直辖行政区划"}


def _jionlp_dir() -> Path:
    import jionlp  # noqa: F401  (only this script needs it)

    return Path(sys.modules["jionlp"].__file__).parent / "dictionary"


def _read_zip_text(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        name = zf.namelist()[0]
        return zf.read(name).decode("utf-8")


def _split_row(line: str) -> tuple[str, str, list[str]]:
    parts = line.strip().split("\t")
    name = parts[0]
    adcode = parts[1] if len(parts) > 1 else ""
    aliases = parts[2].split("/") if len(parts) > 2 else []
    return name, adcode, [a for a in aliases if a and a != name]


def build_divisions(text: str) -> list[list[str]]:
    """Three-level rows; 省直辖 county-level cities are promoted to cities."""
    rows: list[list[str]] = []
    prov_id = city_id = ""
    city_is_placeholder = False
    for raw in text.splitlines():
        if not raw.strip() or raw.startswith("\t\t\t"):
            continue
        name, adcode, aliases = _split_row(raw)
        if not raw.startswith("\t"):
            prov_id = str(len(rows))
            rows.append([prov_id, "1", "", adcode, name, "|".join(aliases)])
        elif not raw.startswith("\t\t"):
            city_is_placeholder = name in PLACEHOLDERS
            if city_is_placeholder:
                continue
            city_id = str(len(rows))
            rows.append([city_id, "2", prov_id, adcode, name, "|".join(aliases)])
        else:
            if name in PLACEHOLDERS:
                continue
            if city_is_placeholder:
                rows.append([str(len(rows)), "2", prov_id, adcode, name, "|".join(aliases)])
            else:
                rows.append([str(len(rows)), "3", city_id, adcode, name, "|".join(aliases)])
    return rows


def add_former_names(rows: list[list[str]], change_text: str) -> None:
    """Attach pre-change names (县→市, 地区→市 …) as aliases of the division that replaced them."""
    by_path: dict[tuple[str, ...], list[str]] = {}
    names = {r[0]: r for r in rows}
    for r in rows:
        path = [r[4]]
        parent = r[2]
        while parent:
            path.insert(0, names[parent][4])
            parent = names[parent][2]
        by_path[tuple(path)] = r
    for line in change_text.splitlines():
        if "=>" not in line:
            continue
        old, new = line.split("=>")
        old_seg = old.split("\t")[2:]
        new_seg = [s for s in new.split("\t") if s]
        old_names = old_seg[0::2]
        target = by_path.get(tuple(new_seg))
        if target is None or len(old_names) != len(new_seg):
            continue
        aliases = [a for a in target[5].split("|") if a]
        for former in (old_names[-1], old_seg[1::2][-1]):
            if former and former != target[4] and former not in aliases:
                aliases.append(former)
        target[5] = "|".join(aliases)


# Divisions newer than jionlp's table, each with its source in SOURCE.md ("Hand edits"):
# (level, parent's name, adcode, name, aliases).
ADDED = [
    ("2", "新疆维吾尔自治区", "659012", "白杨市", ""),  # XPCC 9th division, established 2023-04-28
]


def add_newer_divisions(rows: list[list[str]]) -> None:
    parents = {r[4]: r[0] for r in rows if r[1] == "1"}
    for level, parent, adcode, name, aliases in ADDED:
        if not any(r[3] == adcode for r in rows):
            rows.append([str(len(rows)), level, parents[parent], adcode, name, aliases])


# SOURCE.md is hand-maintained but for its provenance line, which names the jionlp release.
_PROVENANCE = re.compile(r"Extracted from jionlp \S+ (.*?)\nby scripts/build_normalize_data.py on \S+\.")


def main() -> None:
    src = _jionlp_dir()
    version = importlib.metadata.version("jionlp")
    OUT.mkdir(parents=True, exist_ok=True)

    rows = build_divisions(_read_zip_text(src / "china_location.zip"))
    add_former_names(rows, (src / "china_location_change.txt").read_text("utf-8"))
    add_newer_divisions(rows)
    buf = io.StringIO()
    buf.write("id\tlevel\tparent\tadcode\tname\taliases\n")
    for r in rows:
        buf.write("\t".join(r) + "\n")
    (OUT / "divisions.tsv").write_text(buf.getvalue(), "utf-8")

    source = OUT / "SOURCE.md"
    today = dt.date.today().isoformat()
    provenance = f"Extracted from jionlp {version} \\1\nby scripts/build_normalize_data.py on {today}."
    source.write_text(_PROVENANCE.sub(provenance, source.read_text("utf-8")), "utf-8")
    print(f"wrote {len(rows)} divisions to {OUT}; updated the provenance line of {source.name}")


if __name__ == "__main__":
    main()
