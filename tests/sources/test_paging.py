"""Paging a time window while the platform's list changes under us, with the "repeated page" fault.

A platform lists the orders of a window newest-modified first. While we page, orders modified again
leave the window and the rows behind them move towards page 1; now and then the platform answers a
page with the next page's rows. The connector must land every order that stays in the window, and
must not advance its cursor past one it has not seen.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from ecfusion.sources.contract import StreamInfo
from ecfusion.sources.failures import ResponseInvalid
from ecfusion.sources.platforms.base import ListPage, PlatformConfig, PlatformConnector, StreamSpec, Window
from ecfusion.sources.windows import WindowSettings

SIZE = 3


class Listing:
    """The window's rows, newest first, as the platform holds them from one list call to the next.

    ``leave[n]`` are the orders modified again (so gone from the window) before list call ``n``;
    call numbers in ``faulty`` answer page p with page p+1's rows, as the mock's ``duplicate_page``;
    those in ``empty`` answer with no rows; ``phantom`` orders are counted in the total, never listed;
    ``late[n]`` are (position, order) the platform indexes into the window before call ``n``.
    """

    def __init__(
        self,
        rows: int,
        *,
        leave: dict[int, list[str]] | None = None,
        faulty: AbstractSet[int] = frozenset(),
        empty: AbstractSet[int] = frozenset(),
        phantom: int = 0,
        late: dict[int, list[tuple[int, str]]] | None = None,
    ) -> None:
        self.rows = [f"o{i:02d}" for i in range(rows)]
        self.leave = leave or {}
        self.faulty = faulty
        self.empty = empty
        self.phantom = phantom
        self.late = late or {}
        self.calls = 0

    def answer(self, page: int, size: int) -> ListPage:
        self.calls += 1
        for key in self.leave.get(self.calls, []):
            self.rows.remove(key)
        for at, key in self.late.get(self.calls, []):
            self.rows.insert(at, key)
        if self.calls in self.faulty and page * size < len(self.rows):
            page += 1
        chosen = [] if self.calls in self.empty else self.rows[(page - 1) * size : page * size]
        rows = [{"tid": k, "modified": "2026-09-01 10:00:00"} for k in chosen]
        return ListPage(rows, len(self.rows) + self.phantom)


class ListingConnector(PlatformConnector):
    platform = "listing"
    STREAMS = {"orders": StreamSpec(StreamInfo("orders", "tid", "modified"), True)}

    def __init__(self, listing: Listing) -> None:
        now = datetime.now(UTC)
        super().__init__(
            PlatformConfig(
                name="s_listing",
                kind="listing",
                base_url="http://listing.invalid",
                app_key="k",
                app_secret=SecretStr("s"),
                window=WindowSettings(start=now - timedelta(hours=1), page_size=SIZE, lag_seconds=0),
            )
        )
        self.listing = listing

    def probe(self) -> None:
        pass

    def list_page(self, stream: str, window: Window | None, page: int, size: int) -> ListPage:
        return self.listing.answer(page, size)


def read_all(listing: Listing) -> tuple[set[str], list[dict[str, Any]]]:
    """The order keys a sync lands from one window, and the states it would checkpoint."""
    connector = ListingConnector(listing)
    landed: set[str] = set()
    states = []
    for batch in connector.read("orders", None):
        landed.update(str(r["tid"]) for r in batch.records)
        states.append(dict(batch.state))
    return landed, states


def test_a_repeated_last_read_of_page_1_is_asked_again_after_rows_moved_up() -> None:
    # 6 rows, 2 pages: page 1 (o00-o02) to learn the total, page 2, then page 1 again.
    # Before page 2 is read, o01 leaves, so o03 moves up to page 1; before the last read of page 1,
    # o00 leaves too, and that read answers with page 2's rows (o05) — which differ from what page 2
    # said before (o04, o05), as rows keep moving.
    listing = Listing(6, leave={2: ["o01"], 3: ["o00"]}, faulty={3})
    landed, states = read_all(listing)
    assert {"o02", "o03", "o04", "o05"} <= landed, "an order that stayed in the window was never landed"
    assert "cursor" in states[-1]


def test_a_repeated_middle_page_is_asked_again_after_rows_moved_up() -> None:
    # 9 rows, 3 pages read 1, 3, 2, 1. Before page 3, o00 leaves (o03 and o06 move up a page);
    # page 2's read answers with page 3's rows, shifted since page 3 was read.
    listing = Listing(9, leave={2: ["o00"], 3: ["o01"]}, faulty={3})
    landed, _ = read_all(listing)
    assert set(listing.rows) <= landed


def test_a_whole_page_leaving_between_two_reads_is_not_mistaken_for_a_repeated_page() -> None:
    # Between page 2 and the last read of page 1 the whole of page 1 leaves: page 1 now holds
    # exactly the rows page 2 held. Asked twice with the same answer, it is accepted, not an error.
    listing = Listing(6, leave={3: ["o00", "o01", "o02"]})
    landed, states = read_all(listing)
    assert set(listing.rows) <= landed
    assert "cursor" in states[-1]


def test_a_page_answered_empty_is_caught_by_the_count_and_the_window_paged_again() -> None:
    # 9 rows, 3 pages; page 3 answers with no rows (no repeated-page check can see that). The
    # window holds more orders than were listed, so it is paged again before the cursor moves.
    listing = Listing(9, empty={2})
    landed, states = read_all(listing)
    assert set(listing.rows) <= landed
    assert "cursor" in states[-1]


def test_an_order_indexed_late_onto_a_page_already_read_is_read_by_a_second_pass() -> None:
    # 6 rows, 2 pages; before the last read of page 1, the platform indexes o03a into page 2,
    # which was read already. Page 1 now counts 7 orders where 6 were listed: paged again.
    listing = Listing(6, late={3: [(4, "o03a")]})
    landed, states = read_all(listing)
    assert "o03a" in landed and set(listing.rows) <= landed
    assert "cursor" in states[-1]


def test_a_window_that_never_lists_what_it_counts_fails_and_keeps_the_cursor() -> None:
    # The platform counts 7 orders but lists 6, pass after pass: the stream fails with both
    # figures, and no state it produced moves the cursor past the window.
    listing = Listing(6, phantom=1)
    connector = ListingConnector(listing)
    states = []
    with pytest.raises(ResponseInvalid, match="lists 7 but 6 could be read in two passes"):
        for batch in connector.read("orders", None):
            states.append(dict(batch.state))
    assert states and all("cursor" not in s for s in states)
