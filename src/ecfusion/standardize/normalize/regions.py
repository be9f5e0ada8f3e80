"""A phone number's carrier and region, in one answer (``ecfusion normalize phone``).

Serves T/JNBDA 0003-2025 5.2 Table 1 L3 c (补全 from a phone number): ``phone_region`` says
where a mobile or landline was issued, with its carrier and area code, for a user checking a
value. The place comes from completion.py's tables — the only phone → place tables of the
package (mobiles: ``phone.dat`` of the ``phone`` package; landlines:
``data/landline_area_codes.tsv``) — so it names the same official province/city as the region
completed at landing (山东省/济南市).
The carrier comes from ``data/carriers.tsv`` (MIIT number-segment allocations, by 3-4 digit prefix).

Dependencies go one way: regions → completion → phone. IP → region lives in completion.py
(``IpRegions``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from ecfusion.standardize.normalize.completion import area_code_region, mobile_prefix_table
from ecfusion.standardize.normalize.phone import normalize_phone, parse_phone


@dataclass(frozen=True, slots=True)
class Region:
    """Where a phone number is registered (official names); any part may be unknown."""

    province: str | None
    city: str | None
    carrier: str | None = None
    area_code: str | None = None


@lru_cache(maxsize=1)
def _carriers() -> dict[str, str]:
    text = resources.files("ecfusion.standardize.normalize.data").joinpath("carriers.tsv").read_text("utf-8")
    return {p: c for p, c, _virtual in (r.split("\t") for r in text.splitlines()[1:] if r)}


def mobile_carrier(phone: str | None) -> str | None:
    """The carrier (中国移动/中国联通/中国电信/中国广电) of a mainland mobile number, by prefix."""
    mobile = normalize_phone(phone)
    if mobile is None:
        return None
    table = _carriers()
    return table.get(mobile[:4]) or table.get(mobile[:3])


def phone_region(phone: str | None) -> Region | None:
    """Official province/city (``山东省``/``济南市``), carrier and area code of a mobile or landline.

    None when the text is not a phone number (a masked one included). A mobile whose segment is
    not in the table gives a Region with only the carrier; a landline with an unknown area code
    one with only the area code.
    """
    parsed = parse_phone(phone)
    if parsed is None:
        return None
    if parsed.kind == "landline":
        return Region(*area_code_region(parsed.area_code), area_code=parsed.area_code)
    table = mobile_prefix_table()
    province, city = table.region(parsed.number) or (None, None)
    carrier = mobile_carrier(parsed.number)
    return Region(province, city, carrier=carrier, area_code=table.area_code(parsed.number))
