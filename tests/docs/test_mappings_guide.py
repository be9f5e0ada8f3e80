"""docs/mappings.md is the guide to writing a mapping file: it must name every staging target with
its raw entity and required fields, and every key a field rule accepts, as the code has them."""

from __future__ import annotations

import re
from pathlib import Path

from ecfusion.standardize.mapping import FieldRule, Mapping
from ecfusion.standardize.targets import TARGETS

GUIDE = Path(__file__).parents[2] / "docs" / "mappings.md"


def _target_rows() -> dict[str, str]:
    rows = {}
    for line in GUIDE.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("| `") and len(cells) == 4:
            for name in re.findall(r"`(\w+)`", cells[0]):
                rows[name] = line
    return rows


def test_every_target_is_in_the_guide_with_its_entity_and_fields() -> None:
    rows = _target_rows()
    for target in TARGETS.values():
        row = rows.get(target.name)
        assert row is not None, f"docs/mappings.md has no row for target {target.name}"
        if target.raw_entity:
            assert f"`{target.raw_entity}`" in row, target.name
        for f in target.fields:
            shown = f"**{f.name}**" if f.required else f.name
            assert shown in row, f"{target.name}.{f.name} (required: {f.required})"
            if f.vocabulary:
                assert f"{shown} → {f.vocabulary}" in row, f"{target.name}.{f.name} → {f.vocabulary}"


def test_every_key_of_a_field_rule_and_of_the_file_is_explained() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    for key in FieldRule.model_fields:
        assert f"| `{key}` |" in text, key
    for key in ("platform", "version", "reference", "utc_offset_hours", "max_order_amount"):
        assert f"`{key}`" in text, key
    assert set(Mapping.model_fields) >= {"maps", "test_markers"}
