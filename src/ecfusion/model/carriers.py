"""The unified carrier list 物流公司 (standard 6.1.2, logistics), loaded from ``carriers.toml``.

Like the category tree, the list is data: one entry per express company with the texts platforms
use for it. It gives the model a ``carrier`` vocabulary (the unified codes), the shared enum map
``unified_carrier`` (carrier text → code) that platform mappings use for their shipments, and the
rows of ``unified.carrier``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ecfusion.model.reference import load_reference

CARRIERS_FILE = Path(__file__).parent / "carriers.toml"


class Carrier(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    name: str
    aliases: list[str] = Field(default_factory=list)

    def texts(self) -> list[str]:
        """Every text that names this carrier: its code (as written and in lower case), its name
        and its aliases."""
        return list(dict.fromkeys([self.code, self.code.lower(), self.name, *self.aliases]))


class CarrierList(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    carrier: list[Carrier]

    @model_validator(mode="after")
    def _consistent(self) -> CarrierList:
        codes = [c.code for c in self.carrier]
        if len(set(codes)) != len(codes):
            raise ValueError("a carrier code is used twice")
        seen: dict[str, str] = {}
        for c in self.carrier:
            for text in c.texts():
                if seen.setdefault(text, c.code) != c.code:
                    raise ValueError(f"'{text}' names two carriers: {seen[text]} and {c.code}")
        return self

    def aliases(self) -> dict[str, str]:
        """Carrier text → unified code (the shared enum map ``unified_carrier``)."""
        return {text: c.code for c in self.carrier for text in c.texts()}


@cache
def load_carriers(path: Path = CARRIERS_FILE) -> CarrierList:
    return load_reference(path, CarrierList, "carrier list", "fix the carrier named above")


def carrier_rows(carriers: CarrierList | None = None) -> pa.Table:
    """The rows of ``unified.carrier``."""
    c = carriers or load_carriers()
    return pa.table({"carrier_code": [x.code for x in c.carrier], "name": [x.name for x in c.carrier]})
