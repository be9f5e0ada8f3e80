"""docs/data-dictionary.md is what the model says: regenerate it with `ecfusion model dictionary
--out docs/data-dictionary.md` after changing a table, a vocabulary or the category tree."""

from __future__ import annotations

from pathlib import Path

from ecfusion.lineage.columns import data_dictionary

DOC = Path(__file__).parents[2] / "docs" / "data-dictionary.md"


def test_the_committed_dictionary_is_the_generated_one() -> None:
    assert DOC.read_text(encoding="utf-8") == data_dictionary() + "\n", (
        "docs/data-dictionary.md is stale: run `ecfusion model dictionary --out docs/data-dictionary.md`"
    )
