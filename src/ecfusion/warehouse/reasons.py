"""Refund reason texts no code of a platform's reason map matched.

A reason is free text (``mapping.REASON_VOCABULARIES``): a text the map lacks is still a reason, so
the refund is kept with the map's ``default`` ('other') and its text in ``unified.refund
.platform_reason`` — never quarantined. Kept silently, though, a new wording a platform starts
sending would turn a share of the refunds into 'other' without anyone learning of it; so the run
summary names the texts it met, with how many refunds gave each, and how to map them.
"""

from __future__ import annotations

import re

from ecfusion.standardize.mapping import Mapping
from ecfusion.standardize.sqlgen import lit

SHOWN = 5  # texts named per mapping; the rest are counted
LONGEST = 40  # characters of a text shown


def _defaulted(m: Mapping) -> tuple[str, str, list[str]] | None:
    """``(map name, default, codes)`` of ``m``'s refund reason map, when it has a default."""
    fr = m.refund.fields.get("reason") if m.refund is not None else None
    if fr is None or not fr.map:
        return None
    emap = m.enum_map(fr.map)
    return None if emap.default is None else (fr.map, emap.default, list(emap.codes))


def unmatched_sql(refunds: str, platforms: list[Mapping]) -> str | None:
    """``(platform, text, refunds)`` of the rows of ``refunds`` (``unified.refund``-shaped) whose
    reason is their map's default for a text none of its codes is; None when no map has a default."""
    conds = []
    for m in platforms:
        if (found := _defaulted(m)) is None:
            continue
        _, default, codes = found
        listed = f" AND platform_reason NOT IN ({', '.join(lit(c) for c in codes)})" if codes else ""
        conds.append(f"(platform = {lit(m.platform)} AND reason = {lit(default)}{listed})")
    if not conds:
        return None
    return (
        f"SELECT platform, platform_reason, count(*) AS n FROM {refunds}\n"
        f"WHERE {' OR '.join(conds)}\n"
        "GROUP BY platform, platform_reason ORDER BY platform, n DESC, platform_reason"
    )


def note(rows: list[tuple[object, ...]], mappings: dict[str, Mapping]) -> str | None:
    """The summary line for ``unmatched_sql``'s rows; None when there are none."""
    if not rows:
        return None
    by_platform: dict[str, list[tuple[str, int]]] = {}
    for platform, text, n in rows:
        by_platform.setdefault(str(platform), []).append((str(text), int(n)))  # type: ignore[call-overload]
    parts, maps = [], set()
    for platform, texts in by_platform.items():
        m = mappings[platform]
        found = _defaulted(m)
        assert found is not None  # unmatched_sql selects only platforms whose map has a default
        maps.add(found[0])
        shown = ", ".join(f"{_shown(t)} {n:,}" for t, n in texts[:SHOWN])
        rest = texts[SHOWN:]
        if rest:
            shown += f" and {len(rest):,} more texts ({sum(n for _, n in rest):,} refunds)"
        parts.append(f"{m.label} maps.{found[0]} → {found[1]!r}: {shown}")
    total = sum(n for texts in by_platform.values() for _, n in texts)
    where = " / ".join(f"[maps.{name}.codes]" for name in sorted(maps))
    return (
        f"refund reasons no code of their platform's map names, kept as its default with the text in "
        f"unified.refund.platform_reason: {total:,} refunds — {'; '.join(parts)}. To count "
        f"them as a reason, add the texts under {where} of a copy of the mapping in the workspace's "
        "mappings folder (docs/mappings.md), then `ecfusion run --rebuild` maps the refunds already in"
    )


def _shown(text: str) -> str:
    """``text`` quoted, cut to ``LONGEST`` characters. A reason is the buyer's own words where a
    platform passes them on (JD's questionDesc): a run of 7 or more digits (a phone or order number)
    is shown as '*'s, since the summary goes to consoles and logs the warehouse's roles do not guard."""
    text = _NUMBER.sub(lambda m: "*" * len(m.group()), text)
    return repr(text if len(text) <= LONGEST else text[:LONGEST] + "…")


_NUMBER = re.compile(r"\d{7,}")
