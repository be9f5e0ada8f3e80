"""The draft of the next snapshot is a kernel copy of the live one (``snapshot.clone_file``): a reflink
where the file system shares blocks, the bytes elsewhere. Where the kernel cannot copy the file, or
stops partway the way some file systems say so, the run still builds on a whole copy: no row of the
live snapshot is missing from the next one."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from rawzone import RawZone, rows, taobao_trade

from ecfusion import warehouse
from ecfusion.config import Workspace
from ecfusion.warehouse.snapshot import SnapshotStore, clone_file

real_copy_file_range = os.copy_file_range


def refuses(code: int) -> Callable[..., int]:
    def call(src: int, dst: int, count: int, *args: object) -> int:
        raise OSError(code, os.strerror(code))

    return call


def stops_halfway(src: int, dst: int, count: int, *args: object) -> int:
    """Copies the first half, then answers 0 ("nothing more"), as some FUSE file systems do."""
    if os.lseek(dst, 0, os.SEEK_CUR) == 0:
        return real_copy_file_range(src, dst, max(count // 2, 1))
    return 0


@pytest.mark.parametrize(
    "kernel",
    [real_copy_file_range, refuses(errno.EXDEV), refuses(errno.EOPNOTSUPP), refuses(errno.ENOSYS),
     stops_halfway],
    ids=["kernel-copy", "other-file-system", "not-supported", "no-such-call", "stops-halfway"],
)
def test_a_run_builds_on_a_whole_copy_of_the_live_snapshot_however_the_kernel_answers(
    workspace: Workspace, raw: RawZone, monkeypatch: pytest.MonkeyPatch, kernel: Callable[..., int]
) -> None:
    raw.add("taobao", "orders", [
        taobao_trade(i, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00") for i in range(500)
    ])
    warehouse.run(workspace)
    monkeypatch.setattr(os, "copy_file_range", kernel)
    raw.add("taobao", "orders", [taobao_trade(1000, "WAIT_SELLER_SEND_GOODS", "2026-11-01 11:05:00")])
    summary = warehouse.run(workspace)
    assert summary.snapshot == SnapshotStore.of(workspace).current()
    assert rows(workspace, "SELECT count(*), count(DISTINCT order_key) FROM unified.orders") == [(501, 501)]


def test_a_copy_the_kernel_stops_short_is_made_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    live, draft = tmp_path / "live", tmp_path / "draft"
    live.write_bytes(os.urandom(3_000_000))
    monkeypatch.setattr(os, "copy_file_range", stops_halfway)
    clone_file(live, draft)
    assert draft.read_bytes() == live.read_bytes()


def test_a_disk_error_while_copying_is_not_taken_for_an_unsupported_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live, draft = tmp_path / "live", tmp_path / "draft"
    live.write_bytes(b"x" * 10_000)
    monkeypatch.setattr(os, "copy_file_range", refuses(errno.ENOSPC))
    with pytest.raises(OSError, match="No space left"):
        clone_file(live, draft)
