"""``ecfusion normalize`` shows what the library makes of a value."""

from __future__ import annotations

import json

import pytest

from ecfusion.cli import main


def _json_objects(out: str) -> list[dict]:
    decoder, objs, i = json.JSONDecoder(), [], 0
    while i < len(out):
        if out[i] == "{":
            obj, i = decoder.raw_decode(out, i)
            objs.append(obj)
        else:
            i += 1
    return objs


@pytest.mark.slow  # the first CLI call imports every command module of the project
def test_normalize_address_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["normalize", "address", "山东济南历下区泉城路100号", "--json"]) == 0
    (row,) = _json_objects(capsys.readouterr().out)
    assert (row["province"], row["city"], row["district"], row["detail"]) == (
        "山东省",
        "济南市",
        "历下区",
        "泉城路100号",
    )


def test_normalize_phone_and_title(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["normalize", "phone", "+86 138-0531-1234", "138****5678", "--json"]) == 0
    mobile, masked = _json_objects(capsys.readouterr().out)
    assert mobile["mobile"] == "13805311234" and mobile["carrier"] == "中国移动"
    assert (mobile["region"], mobile["area_code"]) == ("山东省 济南市", "0531")
    assert masked["kind"] == "masked" and masked["mobile"] is None
    assert main(["normalize", "title", "海飞丝洗发水0.5L*3瓶", "--json"]) == 0
    (title,) = _json_objects(capsys.readouterr().out)
    assert (title["capacity"], title["unit"], title["pack_count"]) == (500.0, "ml", 3)
