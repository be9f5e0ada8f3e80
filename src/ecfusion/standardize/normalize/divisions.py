"""The Chinese administrative-division table (province / city / district).

Serves T/JNBDA 0003-2025 5.2 Table 1 L3 c (address completion against a reference
table) and 6.1.2 (one region vocabulary in the unified model). The default table is
package data (``data/divisions.tsv``, extracted from jionlp 1.5.31 by
``scripts/build_normalize_data.py``); a newer table in the same TSV layout can be passed
to ``DivisionTable.load``.

Layout: ``id level parent adcode name aliases`` — level 1 province, 2 city (incl. the
county-level cities a province administers directly, e.g. 仙桃市), 3 district/county;
aliases are ``|``-joined short and former names (山东, 济南, 襄樊市).

The shipped table also carries ``data/former_names.tsv`` (hand-maintained from the State
Council's approvals of division changes): names of districts and cities that were merged
or renamed (南汇区 → 浦东新区, 淮阴市 → 淮安市), kept apart from the aliases because a
former district name is only meaningful inside its own city (下关区 → 南京市鼓楼区).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from ecfusion.errors import InputError

_DATA = "ecfusion/standardize/normalize/data"


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
    """All divisions with parent/child navigation.

    ``former_names`` maps a division's id to the names it had before a merger or renaming
    (浦东新区 → 南汇区); a custom table loaded from a path has none.
    """

    def __init__(
        self, divisions: list[Division], former_names: dict[int, tuple[str, ...]] | None = None
    ) -> None:
        self.divisions = divisions
        self.by_id = {d.id: d for d in divisions}
        self.former_names = former_names or {}
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


def _parse_former_names(text: str, where: str, divisions: list[Division]) -> dict[int, tuple[str, ...]]:
    """``adcode name former year change`` rows → {division id: former names}; each row must name a
    division of the table by its adcode and today's name, so a stale row fails loudly."""
    ids = {(d.adcode, d.name): d.id for d in divisions}
    out: dict[int, tuple[str, ...]] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        if n == 1 or not line.strip():
            continue
        parts = line.split("\t")
        div_id = ids.get((parts[0], parts[1])) if len(parts) == 5 else None
        if div_id is None or not parts[2] or not parts[3].isdigit():
            raise InputError(
                f"{where}:{n}: malformed former-name row {line!r}",
                hint="expected 5 tab-separated columns: adcode name former year change, "
                "naming a division of divisions.tsv by its adcode and current name",
            )
        out[div_id] = (*out.get(div_id, ()), parts[2])
    return out


@lru_cache(maxsize=1)
def default_division_table() -> DivisionTable:
    """The shipped table with its former names (loaded once per process)."""
    data = resources.files("ecfusion.standardize.normalize.data")
    divisions = _parse_rows(data.joinpath("divisions.tsv").read_text("utf-8"), f"{_DATA}/divisions.tsv")
    former = _parse_former_names(
        data.joinpath("former_names.tsv").read_text("utf-8"), f"{_DATA}/former_names.tsv", divisions
    )
    return DivisionTable(divisions, former)
