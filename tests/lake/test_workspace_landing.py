"""Landing in a real workspace: FieldCipher tokens, parallel protection, the CLI, no plaintext on disk."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from ecfusion.cli import _load_commands
from ecfusion.cli.app import app
from ecfusion.config import Workspace
from ecfusion.lake import RawLake, ingest_files

PHONE_TEXT = re.compile(r"(?<![0-9A-Za-z_-])1[3-9]\d{9}(?![0-9A-Za-z_-])")  # not inside base64 ciphertext


def _orders(path: Path, n: int) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            f.write(
                json.dumps(
                    {
                        "tid": 7_000_000 + i,
                        "buyer_open_uid": f"AAF{i % 3000:06d}",
                        "receiver_name": "张敏",
                        "receiver_mobile": f"136{i:08d}",
                        "receiver_address": "浙江省杭州市西湖区文三路90号",
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )


@pytest.mark.slow
def test_parallel_protection_writes_tokens_the_workspace_can_decrypt(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    data = tmp_path / "orders.jsonl"
    _orders(data, 12_000)
    with RawLake.open(ws, protect_workers=2) as lake:
        r = ingest_files(lake, "taobao", [data], entity="orders").total
        assert (r.offered, r.landed) == (12_000, 12_000)
        rows = lake.read_raw("taobao", "orders").to_pylist()
        assert len({row["content_hash"] for row in rows}) == 12_000
        last = json.loads(max(rows, key=lambda row: int(row["record_key"]))["payload"])
        assert lake.cipher.decrypt(last["receiver_mobile"]) == "13600011999"  # type: ignore[attr-defined]
    # Parquet is compressed, so its decoded text is searched; every other file for exact values.
    for part in (tmp_path / "ws" / "lake").rglob("*.parquet"):
        text = json.dumps(
            pq.read_table(part).drop_columns(["pulled_at", "received_at"]).to_pylist(),
            ensure_ascii=False,
            default=str,
        )
        assert not PHONE_TEXT.search(text) and "张敏" not in text, part
    for f in (tmp_path / "ws").rglob("*"):
        if f.is_file() and f.suffix != ".parquet":
            body = f.read_bytes()
            assert b"13600011999" not in body and "张敏".encode() not in body, f


def test_cli_ingest_files_prints_the_reconciled_summary(tmp_path: Path) -> None:
    Workspace.init(tmp_path / "ws")
    data = tmp_path / "sales.csv"
    data.write_bytes("单号,手机\nP1,13912345678\nP2,13912345679,多余\n".encode("gbk"))
    _load_commands()
    run = CliRunner().invoke(
        app, ["ingest", "files", "pos", str(data), "--entity", "sales", "--workspace", str(tmp_path / "ws")]
    )
    assert run.exit_code == 0, run.output
    assert "bad_row=1" in run.output and "reconciled: offered = landed" in run.output
