"""Regenerate ``data/landline_area_codes.tsv`` (landline area code → province/city) from phone.dat.

Serves T/JNBDA 0003-2025 5.2 Table 1 L3 c (completion: a landline's area code → region). The
source is the mobile segment table ecfusion already trusts, phone.dat of the ``phone`` package:
each of its ~500k segments names a province, a city and that city's landline area code. So a
landline and a mobile of one city get the same answer (1380431 and 0431 are both 长春市).

* A code every segment gives to one city names that city (official division names, as
  completion.py answers: 吉林省/长春市).
* A code several cities share names only the province, with an empty city: 0728 (仙桃/潜江/天门),
  0898 (all of Hainan), 024 (沈阳/抚顺/本溪/铁岭) … A segment phone.dat places in no single city
  (雄安, 江汉) does not count as another city.
* Codes no segment carries any more, but old records still hold (``RETIRED``), are kept from
  libphonenumber's geocoding table (resources/geocoding/zh/86.txt, data of 2011-06, Apache-2.0).

phone.dat's one malformed code (``00479`` beside ``0479``, both 锡林郭勒盟) is skipped. Run after
upgrading the ``phone`` package, then run tests/standardize/normalize/test_norm_regions.py:

    .venv/bin/python scripts/build_landline_area_codes.py
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from ecfusion.standardize.normalize.completion import MobilePrefixTable

OUT = Path(__file__).resolve().parents[1] / "src/ecfusion/standardize/normalize/data/landline_area_codes.tsv"

# 010 and 02X are three digits; all others four (0 + 3). Anything else in phone.dat is a typo.
_AREA_CODE = re.compile(r"0(?:10|2\d|[3-9]\d\d)")

# Retired code → (province, city or "" when its old area is split among several cities today).
RETIRED = {
    "0378": ("河南省", "开封市"),  # now 0371, shared with 郑州
    "0410": ("辽宁省", "铁岭市"),  # now 024
    "0413": ("辽宁省", "抚顺市"),  # now 024
    "0414": ("辽宁省", "本溪市"),  # now 024
    "0565": ("安徽省", ""),  # 巢湖 prefecture, split in 2011 among 合肥/芜湖/马鞍山
    "0852": ("贵州省", "遵义市"),  # now 0851
    "0853": ("贵州省", "安顺市"),  # now 0851
}


def area_code_places(table: MobilePrefixTable) -> dict[str, tuple[str, str]]:
    """Area code → (official province, official city or "" when several cities share the code)."""
    provinces: dict[str, set[str]] = defaultdict(set)
    cities: dict[str, set[str]] = defaultdict(set)
    for place, code in zip(table.places[1:], table.area_codes[1:], strict=True):
        if place is None or place[0] is None or code is None or not _AREA_CODE.fullmatch(code):
            continue
        provinces[code].add(place[0])
        if place[1] is not None:
            cities[code].add(place[1])
    places: dict[str, tuple[str, str]] = {}
    for code, names in provinces.items():
        if len(names) != 1:
            raise SystemExit(f"area code {code} spans provinces {sorted(names)}: check phone.dat")
        places[code] = (names.pop(), cities[code].pop() if len(cities[code]) == 1 else "")
    if clash := set(places) & set(RETIRED):
        raise SystemExit(f"retired area codes back in use: {sorted(clash)}: drop them from RETIRED")
    return places | RETIRED


def main() -> None:
    table = MobilePrefixTable()
    places = area_code_places(table)
    rows = ["area_code\tprovince\tcity"] + [f"{code}\t{p}\t{c}" for code, (p, c) in sorted(places.items())]
    OUT.write_text("\n".join(rows) + "\n", "utf-8")
    shared = sorted(code for code, (_p, c) in places.items() if not c)
    print(
        f"wrote {len(places)} area codes from phone.dat {table.version} to {OUT}; "
        f"province only: {', '.join(shared)}"
    )


if __name__ == "__main__":
    main()
