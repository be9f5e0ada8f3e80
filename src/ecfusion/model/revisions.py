"""Changes of the unified model that leave a warehouse an earlier ecfusion built at odds with this one.

Most changes of ecfusion need nothing of an existing warehouse: a column added is NULL on the rows
before it (``pipeline.ensure_schema``), and a mapping changed is said by ``mapping_drift``. A change
of how a keyed table derives its key is different: the rows already stored hold the old key, the
next version of the same thing gets the new one, and the merge by key stores it twice. Only
standardizing the whole raw zone again under the new rules (``ecfusion run --rebuild``) puts the
stored rows and the next ones under one key.

Each such change is a ``Revision`` here: its number, the raw entities whose rows it concerns and
what changed; where only some stored values come out otherwise, the columns that hold them
(``padded``: ids with a blank at an end). Every run records, per raw file it standardized, the
revision it ran at (``meta.processed_file.model_revision``; NULL for files of an ecfusion before
revisions, read as 0). A run over a warehouse holding files of a concerned entity standardized at
an earlier revision (and, for a change of some values, such a value stored) is refused, saying
which change and that ``--rebuild`` applies it (``warehouse.model_drift``). Add a revision with the
change, numbered one above the last.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Revision:
    number: int
    entities: tuple[str, ...]  # raw entities whose unified rows the change concerns
    what: str  # what changed, for the user: the table, the key and what went wrong before it
    # only stored values with a blank at an end come out otherwise: (table, column) that hold them
    padded: tuple[tuple[str, str], ...] = ()


REVISIONS: tuple[Revision, ...] = (
    Revision(
        1,
        ("ad_impressions", "ad_clicks"),
        "unified.ad_touch is keyed by the touch's type and id (touch_key), no longer by the id alone",
    ),
    Revision(
        1,
        ("traces",),
        "unified.tracking_event.event_key leaves out the carrier, so a push that corrects the carrier "
        "keeps each event once",
    ),
    Revision(
        1,
        ("orders", "refunds"),
        "an id is trimmed of blanks at its ends, zero-width spaces included (' 9200001' is order 9200001)",
        padded=(
            ("orders", "platform_order_id"),
            ("order_line", "line_id"),
            ("order_line", "sku_id"),
            ("refund", "platform_refund_id"),
        ),
    ),
)

CURRENT = max(r.number for r in REVISIONS)
