"""Shared fixtures for entity-resolution tests: a small synthetic merchant, resolved once per session."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pytest

from ecfusion.config import Workspace
from ecfusion.resolve import ResolveSummary, run, sample


@dataclass
class Resolved:
    ws: Workspace
    cipher: sample.SampleCipher
    accounts: pa.Table
    truth: sample.SampleTruth
    truth_dir: Path
    summary: ResolveSummary


def build(root: Path, persons: int = 300, seed: int = 21) -> Resolved:
    cipher = sample.SampleCipher(seed)
    accounts, truth = sample.member_accounts(persons, seed=seed, cipher=cipher)
    listing_rows, listing_truth = sample.listings(60, seed=seed)
    truth.listings = listing_truth.listings
    truth.write(root / "truth")
    ws = Workspace.init(root / "ws")
    sample.install(ws, accounts, listing_rows)
    summary = run(ws, reader=cipher)
    return Resolved(ws, cipher, accounts, truth, root / "truth", summary)


@pytest.fixture(scope="session")
def resolved(tmp_path_factory: pytest.TempPathFactory) -> Resolved:
    """A resolved merchant that tests only read (tests that change state build their own)."""
    return build(tmp_path_factory.mktemp("er_shared"))


@pytest.fixture
def build_merchant() -> Callable[..., Resolved]:
    """``build(root, persons=…, seed=…)``: a fresh resolved merchant a test may change."""
    return build
