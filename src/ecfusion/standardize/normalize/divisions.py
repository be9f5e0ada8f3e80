"""The Chinese administrative-division table (province / city / district).

Serves T/JNBDA 0003-2025 5.2 Table 1 L3 c (address completion against a reference
table) and 6.1.2 (one region vocabulary in the unified model). The default table is
package data (``data/divisions.tsv``, extracted from jionlp 1.5.31 by
``scripts/build_normalize_data.py``); a newer table in the same TSV layout can be passed
to ``DivisionTable.load``.

Layout: ``id level parent adcode name aliases`` — level 1 province, 2 city (incl. the
county-level cities a province administers directly, e.g. 仙桃市), 3 district/county;
aliases are ``|``-joined short and former names (山东, 济南, 襄樊市).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from ecfusion.errors import InputError


@dataclass(frozen=True, slots=True)
class Division:
    """One administrative division."""

    id: int
    level: int  # 1 province, 2 city, 3 district
    parent: int | None
    adcode: str
    name: str
    aliases: tuple[str, ...]


class DivisionTable:
    """All divisions with parent/child navigation."""

    def __init__(self, divisions: list[Division]) -> None:
        self.divisions = divisions
        self.by_id = {d.id: d for d in divisions}
        self.children: dict[int, list[int]] = {}
        for d in divisions:
            if d.parent is not None:
                self.children.setdefault(d.parent, []).append(d.id)

    def __len__(self) -> int:
        return len(self.divisions)

    def ancestors(self, div_id: int) -> list[Division]:
        """The division and its parents, top (province) first."""
        chain = []
        cur: int | None = div_id
        while cur is not None:
            d = self.by_id[cur]
            chain.append(d)
            cur = d.parent
        return chain[::-1]

    def descendants(self, div_id: int) -> list[int]:
        """Every division below ``div_id`` (cities and districts of a province)."""
        out: list[int] = []
        stack = list(self.children.get(div_id, ()))
        while stack:
            cur = stack.pop()
            out.append(cur)
            stack.extend(self.children.get(cur, ()))
        return out

    @classmethod
    def load(cls, path: str | Path | None = None) -> DivisionTable:
        """Load a division TSV; the shipped table when ``path`` is None."""
        if path is None:
            return default_division_table()
        try:
            text = Path(path).read_text("utf-8")
        except OSError as exc:
            raise InputError(
                f"cannot read division table {path}: {exc}",
                hint="pass a TSV with columns id level parent adcode name aliases",
            ) from exc
        return cls(_parse_rows(text, str(path)))


def _parse_rows(text: str, where: str) -> list[Division]:
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        if n == 1 or not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 6 or not parts[0].isdigit() or parts[1] not in ("1", "2", "3"):
            raise InputError(
                f"{where}:{n}: malformed division row {line!r}",
                hint="expected 6 tab-separated columns: id level parent adcode name aliases",
            )
        did, level, parent, adcode, name, aliases = parts
        out.append(
            Division(
                int(did),
                int(level),
                int(parent) if parent else None,
                adcode,
                name,
                tuple(a for a in aliases.split("|") if a),
            )
        )
    return out


@lru_cache(maxsize=1)
def default_division_table() -> DivisionTable:
    """The shipped table (loaded once per process)."""
    text = resources.files("ecfusion.standardize.normalize.data").joinpath("divisions.tsv").read_text("utf-8")
    return DivisionTable(_parse_rows(text, "ecfusion/standardize/normalize/data/divisions.tsv"))
