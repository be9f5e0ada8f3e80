"""A phone number's carrier and region, in one answer (``ecfusion normalize phone``).

Serves T/JNBDA 0003-2025 5.2 Table 1 L3 c (补全 from a phone number): ``phone_region`` says
where a mobile or landline was issued, with its carrier and area code, for a user checking a
value. The place comes from completion.py's tables — the only phone → place tables of the
package (mobiles: ``phone.dat`` of the ``phone`` package; landlines:
``data/landline_area_codes.tsv``, generated from phone.dat's own area codes) — so it names the
same official province/city as the region completed at landing (山东省/济南市).
The carrier comes from ``data/carriers.tsv`` (MIIT number-segment allocations, by 3-4 digit
prefix; ``phone.mobile_segment``), which also marks the segments of virtual operators: their
numbers get no place, since the segment's home city is the reseller's, not the buyer's.

Dependencies go one way: regions → completion → phone. IP → region lives in completion.py
(``IpRegions``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ecfusion.standardize.normalize.completion import area_code_region, mobile_prefix_table
from ecfusion.standardize.normalize.phone import mobile_segment, normalize_phone, parse_phone


@dataclass(frozen=True, slots=True)
class Region:
    """Where a phone number is registered (official names); any part may be unknown.

    ``virtual_operator``: a virtual operator's number (170/171/162/165/167), whose place is
    deliberately left unknown."""

    province: str | None
    city: str | None
    carrier: str | None = None
    area_code: str | None = None
    virtual_operator: bool = False


def mobile_carrier(phone: str | None) -> str | None:
    """The carrier (中国移动/中国联通/中国电信/中国广电) of a mainland mobile number, by prefix."""
    mobile = normalize_phone(phone)
    segment = mobile_segment(mobile) if mobile is not None else None
    return segment.carrier if segment is not None else None


def phone_region(phone: str | None) -> Region | None:
    """Official province/city (``山东省``/``济南市``), carrier and area code of a mobile or landline.

    None when the text is not a phone number (a masked one, a 400/800 service number and a
    landline whose area code no city has included). A mobile whose segment is not in the table
    gives a Region with only the carrier; a landline whose code several cities share (0728, 0898)
    one with only the province; a virtual operator's mobile one with only the carrier.
    """
    parsed = parse_phone(phone)
    if parsed is None:
        return None
    if parsed.kind == "landline":
        return Region(*area_code_region(parsed.area_code), area_code=parsed.area_code)
    segment = mobile_segment(parsed.number)
    carrier = segment.carrier if segment is not None else None
    if segment is not None and segment.virtual:
        # Sold nationwide by a reseller: the segment's city (and its area code) is not the buyer's.
        return Region(None, None, carrier=carrier, virtual_operator=True)
    table = mobile_prefix_table()
    province, city = table.region(parsed.number) or (None, None)
    return Region(province, city, carrier=carrier, area_code=table.area_code(parsed.number))
