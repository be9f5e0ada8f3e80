"""`ecfusion model check` and `ecfusion model mappings` as a mapping's author meets them: every file
named checked, each bad one said in one line, a workspace file that replaces a shipped one and drops
some of its targets named before a run leaves their records pending."""

from __future__ import annotations

from pathlib import Path

from tests.kuaishou_mapping import HEAD, ORDER_KEYS
from tests.warehouse.rawzone import cli

from ecfusion.config import Workspace
from ecfusion.standardize.mapping import MAPPINGS_DIR, own_folder

GOOD = HEAD + ORDER_KEYS + 'modified_at = { path = "updateTime", time = "unix_ms" }\n'


def _taobao_without_refunds_and_listings(folder: Path) -> Path:
    text = (MAPPINGS_DIR / "taobao.toml").read_text(encoding="utf-8")
    own = folder / "taobao.toml"
    own.write_text(
        text[: text.index("[refund.fields]")].replace('version = "1.2.0"', 'version = "1.2.0-ws"'),
        encoding="utf-8",
    )
    return own


def test_model_check_checks_every_file_and_fails_if_any_is_bad(tmp_path: Path) -> None:
    first, bad, last = tmp_path / "a.toml", tmp_path / "b.toml", tmp_path / "c.toml"
    first.write_text(GOOD, encoding="utf-8")
    bad.write_text(GOOD.replace('"30" = "paid"', '"30" = "payed"'), encoding="utf-8")
    last.write_text(GOOD.replace('"kuaishou"', '"kuaishou2"'), encoding="utf-8")
    out = cli("model", "check", str(first), str(bad), str(last))
    assert out.returncode != 0
    assert "a.toml: kuaishou" in out.stdout and "c.toml: kuaishou2" in out.stdout  # the files after it too
    (line,) = out.stderr.splitlines()
    assert line.startswith("error[ECF120]: ") and str(bad) in line and "'maps.order_status.codes.30'" in line
    assert "Traceback" not in out.stderr


def test_model_check_warns_of_a_replacement_that_drops_shipped_targets(tmp_path: Path) -> None:
    own = _taobao_without_refunds_and_listings(tmp_path)
    out = cli("model", "check", str(own))
    assert out.returncode == 0, out.stderr  # a warning: a workspace may mean to leave them out
    warning = next(line for line in out.stdout.splitlines() if line.startswith("warning:"))
    assert str(own) in warning and "[refund], [listing]" in warning and "pending" in warning


def test_model_mappings_warns_of_a_replacement_that_drops_shipped_targets(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    own_folder(ws).mkdir()
    own = _taobao_without_refunds_and_listings(own_folder(ws))
    out = cli("model", "mappings", "-w", str(ws.root))
    assert out.returncode == 0, out.stderr
    warning = next(line for line in out.stdout.splitlines() if line.startswith("warning:"))
    assert str(own) in warning and "[refund], [listing]" in warning
