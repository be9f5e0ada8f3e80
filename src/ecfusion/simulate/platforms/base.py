"""The interface every simulated platform shape implements (issue 2, Build §3).

A shape turns platform-neutral drafts (``ecfusion.simulate.orders``) into the platform's native
JSON — orders, refunds / after-sales and product listings — and knows how to damage one of its
own records for each structural defect kind (``ecfusion.simulate.defects``).
"""

from __future__ import annotations

import random
from typing import Any, Protocol

from ecfusion.simulate.calendar import TimeText
from ecfusion.simulate.catalog import Listing
from ecfusion.simulate.defects import Mutator
from ecfusion.simulate.orders import OrderDraft, Refund


class PlatformShape(Protocol):
    name: str
    shop: str
    hidden_stages: frozenset[str]  # stages the platform never shows (no version written)
    order_statuses: frozenset[object]  # the documented codes (tests check against these)
    mutators: dict[str, Mutator]

    def assign_ids(self, draft: OrderDraft, rng: random.Random) -> None: ...

    def render_order(self, draft: OrderDraft, step: int, modified: int, tt: TimeText) -> dict[str, Any]: ...

    def render_refund(self, draft: OrderDraft, refund: Refund, tt: TimeText) -> dict[str, Any]: ...

    def render_item(self, skus: list[Listing], tt: TimeText, listed_at: int) -> dict[str, Any]: ...

    def order_key(self, record: dict[str, Any]) -> str: ...
