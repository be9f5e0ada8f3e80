"""`ecfusion privacy …` as an operator meets it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecfusion.cli import main
from ecfusion.config import Workspace
from ecfusion.errors import SubjectErased
from ecfusion.security.fields import FieldCipher


def test_erase_by_subject_then_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = Workspace.init(tmp_path / "ws")
    cipher = FieldCipher.open(ws)
    token = cipher.encrypt("phone", "13812345678", "crm:M1")
    cipher.close()
    assert main(["privacy", "erase", "-w", str(ws.root), "--subject", "crm:M1", "--reason", "DSR-5"]) == 0
    assert "erased subject" in capsys.readouterr().out
    assert main(["privacy", "status", "-w", str(ws.root)]) == 0
    assert "1 erased subjects" in capsys.readouterr().out
    cipher = FieldCipher.open(ws)
    with pytest.raises(SubjectErased):
        cipher.decrypt(token)
    cipher.close()


def test_erase_without_a_target_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = Workspace.init(tmp_path / "ws")
    assert main(["privacy", "erase", "-w", str(ws.root), "--reason", "x"]) == 2
    err = capsys.readouterr().err
    assert "nothing to erase" in err and "Traceback" not in err


def test_scan_reports_fields_without_showing_values(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    records = tmp_path / "orders.jsonl"
    records.write_text(
        '{"tid": "1", "receiver_mobile": "13812345678", "receiver_name": "李**",'
        ' "buyer_message": "call 13912345678"}\n'
        "not json\n", encoding="utf-8")
    assert main(["privacy", "scan", str(records), "--platform", "taobao"]) == 0
    out = capsys.readouterr().out
    assert "receiver_mobile" in out and "detected in text" in out and "masked" in out
    assert "1 lines are not JSON" in out
    assert "13812345678" not in out and "13912345678" not in out
