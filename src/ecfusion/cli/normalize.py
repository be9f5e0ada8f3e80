"""``ecfusion normalize …``: try the preprocessing normalizers on a few values (5.2 Table 1 L2-L3).

A thin window onto ``ecfusion.standardize.normalize`` for checking how a messy value will be
read before writing a mapping or a quality rule; pipelines call the library directly. Each
command imports the normalizers it shows (they bring pyarrow), so other commands start without them.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from ecfusion.cli.app import app, console

normalize_app = typer.Typer(help="Show how values are normalized (addresses, phones, product titles).")
app.add_typer(normalize_app, name="normalize")

JsonFlag = Annotated[bool, typer.Option("--json", help="one JSON object per value instead of a table")]


def _emit(rows: list[dict[str, object]], as_json: bool) -> None:
    if as_json:
        for row in rows:
            console.print_json(json.dumps(row, ensure_ascii=False))
        return
    table = Table(*rows[0].keys()) if rows else Table()
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row.values()))
    console.print(table)


@normalize_app.command("address")
def address_cmd(
    texts: Annotated[list[str], typer.Argument(help="addresses")], as_json: JsonFlag = False
) -> None:
    """Split addresses into province / city / district / detail against the division table."""
    from ecfusion.standardize.normalize import AddressParser

    parser = AddressParser()
    _emit([{"input": t, **parser.parse(t)._asdict()} for t in texts], as_json)


@normalize_app.command("phone")
def phone_cmd(
    texts: Annotated[list[str], typer.Argument(help="phone numbers or masks")], as_json: JsonFlag = False
) -> None:
    """Canonical mobile/landline, carrier and region; masks show their visible digits."""
    from ecfusion.standardize.normalize import (
        mobile_carrier,
        normalize_phone,
        parse_phone,
        phone_region,
        phone_visible_digits,
    )

    rows: list[dict[str, object]] = []
    for t in texts:
        parsed, mask, region = parse_phone(t), phone_visible_digits(t), phone_region(t)
        rows.append(
            {
                "input": t,
                "kind": parsed.kind if parsed else ("masked" if mask else None),
                "normalized": parsed.number
                if parsed
                else (f"{mask.prefix}****{mask.suffix}" if mask else None),
                "mobile": normalize_phone(t),
                "carrier": mobile_carrier(t),
                "region": f"{region.province or ''} {region.city or ''}".strip() if region else None,
                "area_code": region.area_code if region else None,
            }
        )
    _emit(rows, as_json)


@normalize_app.command("title")
def title_cmd(
    titles: Annotated[list[str], typer.Argument(help="product titles")], as_json: JsonFlag = False
) -> None:
    """Cleaned title, capacity (ml/g) and pack count of product titles."""
    from ecfusion.standardize.normalize import clean_title, parse_spec

    rows: list[dict[str, object]] = []
    for t in titles:
        spec = parse_spec(t)
        rows.append(
            {
                "input": t,
                "clean_title": clean_title(t),
                "capacity": spec.capacity_value,
                "unit": spec.capacity_unit,
                "pack_count": spec.pack_count,
            }
        )
    _emit(rows, as_json)
