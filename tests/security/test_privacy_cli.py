"""`ecfusion privacy …` as an operator meets it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecfusion.cli import main
from ecfusion.config import Workspace
from ecfusion.errors import SubjectErased
from ecfusion.security.fields import FieldCipher, parse_token


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


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [
        ("--phone", "abc", "'abc' is not a phone number (hint: give a mainland mobile such as 13812345678"),
        ("--phone", "138****5678", "'138****5678' is not a phone number (hint: "),  # a masked copy
        ("--email", "abc", "'abc' is not an e-mail address (hint: give it as name@example.com; "),
        ("--id-number", "abc", "'abc' is not a resident ID number (hint: give its 18 characters"),
        ("--id-number", "110101199003071234", "'110101199003071234' is not a resident ID number (hint: "),
        ("--subject", "abc", "'abc' is not a subject key (hint: give <platform>:<account id>, "),
        ("--subject", "taobao:", "'taobao:' is not a subject key (hint: "),
        ("--subject-id", "abc", "'abc' is not a subject id (hint: a subject id is the 24 hex digits "),
    ],
    ids=lambda v: v if len(v) < 20 else "",
)
def test_erase_refuses_a_value_that_cannot_be_what_it_is_given_as_and_erases_nothing(
    option: str, value: str, said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--phone abc`` said "erased subject …": the blind index of a number with no digits, and a
    subject that no token holds, recorded as erased; ``--subject abc`` erased a subject no protect
    ever makes. Each is refused, and an account given beside it is not erased either."""
    ws = Workspace.init(tmp_path / "ws")
    cipher = FieldCipher.open(ws)
    token = cipher.encrypt("phone", "13812345678", "crm:M1")
    cipher.close()
    # an account given beside the mistyped value (each option once)
    subject_id = parse_token(token).subject
    account = ["--subject-id", subject_id] if option == "--subject" else ["--subject", "crm:M1"]
    argv = ["privacy", "erase", "-w", str(ws.root), "--reason", "DSR-5", *account, option, value]
    assert main(argv) == 2
    shown = capsys.readouterr()
    [line] = [ln for ln in shown.err.splitlines() if ln.strip()]
    assert line.startswith(f"error[ECF200]: {said}"), line
    assert line.endswith("; nothing was erased)"), line
    assert "erased subject" not in shown.out
    cipher = FieldCipher.open(ws)
    assert cipher.decrypt(token) == "13812345678"
    assert cipher.keystore.stats()["erasures"] == 0  # type: ignore[attr-defined]
    cipher.close()


def test_erase_by_a_phone_number_however_it_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The check refuses no real number: a mobile with its country code, a landline."""
    ws = Workspace.init(tmp_path / "ws")
    for phone in ("+86 138-1234-5678", "0571-88886666"):
        assert main(["privacy", "erase", "-w", str(ws.root), "--reason", "DSR-6", "--phone", phone]) == 0
        assert "erased subject" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("option", "value", "named"),
    [
        ("--email", "Someone@Example.com", "e-mail s***@example.com"),
        ("--id-number", "11010519491231002x", "ID number 110***********002X"),
    ],
    ids=["email", "id-number"],
)
def test_erasing_a_value_no_data_holds_says_so_masked(
    option: str, value: str, named: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It said "nothing to erase (hint: give --subject, --subject-id, --phone, --email or
    --id-number)", to a user who had given one. The lake holds another member's e-mail and ID
    number; the one asked for is named by kind and masked, never whole, and nothing is erased."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    ws = Workspace.init(tmp_path / "ws")
    cipher = FieldCipher.open(ws)
    [member] = cipher.protect_many(
        [{"member_id": "M1", "email": "lina@example.com", "id_card_no": "110108198501011233"}],
        source="crm", platform="crm",
    )
    cipher.close()
    folder = ws.lake_root / "raw" / "source=crm" / "entity=members" / "dt=2026-12-01"
    folder.mkdir(parents=True)
    payload = json.dumps(member.payload, ensure_ascii=False)
    pq.write_table(pa.table({"raw_record_id": ["a"], "payload": [payload]}), folder / "part-0.parquet")

    assert main(["privacy", "erase", "-w", str(ws.root), "--reason", "DSR-7", option, value]) == 2
    shown = capsys.readouterr()
    assert "scanned 1 raw files" in shown.out
    [line] = [ln for ln in shown.err.splitlines() if ln.strip()]
    assert line == (
        f"error[ECF200]: no data of {named} is held: nothing was erased (hint: if the person is known by an "
        "account, erase that with --subject <platform>:<account id>)"
    )
    assert value.lower() not in (shown.out + shown.err).lower()
    cipher = FieldCipher.open(ws)
    assert cipher.keystore.stats()["erasures"] == 0  # type: ignore[attr-defined]
    cipher.close()
