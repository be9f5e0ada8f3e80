"""One small simulated merchant shared by the simulate tests (generated once per session)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ecfusion.simulate import DefectRates, Manifest, generate

SMALL = {"persons": 600, "days": 45, "seed": 11, "orders": 1500}
# defects far above the default so that every kind shows up in a small merchant
RATES = DefectRates.scaled_to(0.08)


@dataclass(frozen=True)
class Merchant:
    root: Path
    manifest: Manifest
    args: dict[str, int]
    rates: DefectRates

    def defects(self) -> list[dict[str, str]]:
        with open(self.root / "truth" / "defects.csv", encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))

    def defect_lines(self) -> dict[tuple[str, int], str]:
        return {(d["path"], int(d["line"])): d["kind"] for d in self.defects()}

    def lines(self, relpath: str) -> Iterator[tuple[int, bytes]]:
        with open(self.root / relpath, "rb") as fh:
            for n, raw in enumerate(fh, start=1):
                yield n, raw.rstrip(b"\n")


@pytest.fixture(scope="session")
def merchant(tmp_path_factory: pytest.TempPathFactory) -> Merchant:
    root = tmp_path_factory.mktemp("merchant")
    manifest = generate(root, defects=RATES, **SMALL)
    return Merchant(root, manifest, dict(SMALL), RATES)
