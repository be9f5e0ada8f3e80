"""Settlement of refunds against their orders (standard 5.2 Table 1 L3 b, 6.1.2): what neither an
order nor a refund can say alone, checked on the two as the warehouse holds them together.

- ``refund_exceeds_payment``: the order's refunds whose unified status is ``refunded`` total more
  than its ``pay_amount``. The order is kept and flagged, with the figures:
  ``refund_exceeds_payment: refunds 120.00 of order taobao:123 exceed its payment 100.00``.
  A refund still ``requested`` or ``returning`` does not count (it may yet be refused: the check
  runs again when its later version lands), nor does a ``refused`` or ``closed`` one. Every
  ``refunded`` refund counts, one flagged ``price_out_of_range`` too: it is what the platform says
  was paid back, as the run summary's refunded totals count it.
- ``partial_refund``: a platform whose order-level refund status says "refunded" also after a
  refund of part of the order (Pinduoduo's ``refund_status`` 4, 退款成功) declares those codes in its
  mapping (``partial_refund`` of the override map). An order that is ``refunded`` only by such a
  code, whose refunds in the warehouse total less than what it paid for its goods — its
  ``pay_amount`` less its postage (``freight_amount``, NULL as 0) — takes the status its own status
  code gives (``order_status`` 2: ``shipped``) and is flagged, saying why:
  ``partial_refund: refund_status 4 says refunded, but the refunds of order pdd:1 total 5.00 of
  its payment 19.90 less postage 6.00: status shipped, as order_status 2 says`` (without postage,
  ``… of its payment 19.90: …``). The postage is left out because a Pinduoduo refund of every good
  usually does not return it (nor does the simulated merchant's: each refunds what a line was paid): an
  order paid 44.40 with postage 6.00 and refunded 38.40 is refunded in whole and stays
  ``refunded``, unflagged. Here the refunds that count are those not ``refused`` or ``closed``:
  the order says a refund succeeded, and a refund row still in progress is most likely behind the
  order, so counting it never demotes a whole refund whose row is late. An order with no refund in
  the warehouse at all cannot be told: it stays ``refunded`` (as before the settlement),
  unflagged, until its refunds land.
  ``refund_exceeds_payment`` still compares with the whole ``pay_amount``: a refund that returns
  the postage too is no excess.

What the settlement changes and what it leaves:

- ``unified.orders``: ``status``, ``quality_flags`` and ``quality_notes`` of the orders it settles.
  ``platform_status`` keeps the codes as sent ('2/4'), so the status the platform gave is always
  there to read, and a later run recomputes the settlement from it (a row is first stripped of
  earlier settlement marks, its status given back as ``refunded``).
- ``unified.quality_flag``: the order's flag rows (all of them, so its other flags stay).
- ``unified.order_status_history`` is left as the platform's versions said it: the refund did
  succeed on that day (partly), and the history is the record of what the platform reported, the
  same whichever refunds arrived later; ``orders.status`` is the settled present state, and its
  ``partial_refund`` flag says why the two differ.
- GMV (``pipeline.platform_figures``) counts every paid order, refunded or not (GMV is what was
  paid; refunds are reported beside it), so settling a status changes no GMV; nor does a flag
  here (only ``price_out_of_range`` leaves an order out of GMV).

When: every run that writes orders or refunds settles the orders it touches — those its order
writes name and those its refund writes name, before and after — from the state its writes leave
(``_Run.after_writes``), and replaces the rows whose settlement changed. So a refund that lands
before its order is settled when the order lands, a later order version (another payment) is
settled against the refunds already held, and a flag that no longer holds is cleared. A refund of
an order the warehouse does not hold yet flags nothing.
"""

from __future__ import annotations

from ecfusion.model.tables import ORDERS
from ecfusion.standardize.mapping import Mapping
from ecfusion.standardize.sqlgen import NOTE_SEPARATOR, lit, partial_refund_sql
from ecfusion.warehouse.merge import orders_named_sql

EXCEEDS = "refund_exceeds_payment"
PARTIAL = "partial_refund"
RULES = (EXCEEDS, PARTIAL)
# refund statuses that moved money or may yet: what a partial_refund settlement counts
HELD = ("requested", "returning", "refunded")
# what a refund of every good pays back: the payment less the postage, which it usually keeps
_POSTAGE = "COALESCE(freight_amount, 0)"
_GOODS_PAID = f"pay_amount - {_POSTAGE}"


def affected_orders_sql(order_writes: list[tuple[str, str]], refund_writes: list[tuple[str, str]]) -> str:
    """Order keys a run settles: those its order writes name (``(rows, replaced order keys)``) and
    those its refund writes name, before (the replaced refunds' current rows) and after."""
    return orders_named_sql(order_writes, refund_writes, "cur_refund", "refund_key")


def _money(x: str) -> str:
    return f"CAST(CAST({x} AS DECIMAL(18,2)) AS VARCHAR)"


def _by_platform(exprs: dict[str, str]) -> str:
    if not exprs:
        return "CAST(NULL AS VARCHAR)"
    whens = " ".join(f"WHEN {lit(p)} THEN {e}" for p, e in sorted(exprs.items()))
    return f"CASE platform {whens} END"


def settled_orders_sql(affected: str, orders: str, refunds: str, mappings: dict[str, Mapping]) -> str:
    """Narrow: the settlement of the orders of ``affected`` that it may concern, from the orders
    ``orders`` and the refunds ``refunds`` as the run leaves them: ``order_key``, ``platform`` and the
    settled ``status``, ``quality_flags`` and ``quality_notes``, with ``_changed`` (they differ from
    the order's row in ``orders``) and ``_untold`` (refunded by a ``partial_refund`` code only, and
    the warehouse holds no refund of it: whole or part unknown). It may concern an order that has a
    refund, carries a settlement flag, or is ``refunded`` on a platform with ``partial_refund`` codes:
    the others (nearly every order of a first load) are left out before any list is split."""
    parts = {p: s for p, m in mappings.items() if (s := partial_refund_sql(m)) is not None}
    mine = f"order_key IN (SELECT order_key FROM {affected})"
    flags = "string_split(quality_flags, ',')"
    sep = lit(NOTE_SEPARATOR)
    others = " AND ".join(f"f <> {lit(r)}" for r in RULES)
    own_notes = " AND ".join(f"NOT starts_with(n, {lit(r + ': ')})" for r in RULES)
    marked = " OR ".join(f"quality_flags LIKE {lit('%' + r + '%')}" for r in RULES)
    platforms = ", ".join(lit(p) for p in sorted(parts))
    coded = f" OR (status = 'refunded' AND platform IN ({platforms}))" if parts else ""
    concerned = f"order_key IN (SELECT order_key FROM st) OR {marked}{coded}"
    # the row without earlier settlement marks: its flags, its notes, the status its codes gave
    stripped = (
        "SELECT order_key, platform, status, platform_status, pay_amount, freight_amount, quality_flags,\n"
        "    quality_notes,\n"
        f"    NULLIF(array_to_string(list_filter({flags}, lambda f: {others}), ','), '') AS _flags,\n"
        f"    NULLIF(array_to_string(list_filter(string_split(quality_notes, {sep}), lambda n: {own_notes}),"
        f" {sep}), '') AS _notes,\n"
        f"    CASE WHEN list_contains({flags}, {lit(PARTIAL)}) THEN 'refunded' ELSE status END AS _status\n"
        f"  FROM {orders} WHERE {mine} AND ({concerned})"
    )
    held = ", ".join(lit(s) for s in HELD)
    totals = (
        "SELECT order_key, count(*) AS _refunds,\n"
        "    sum(amount) FILTER (WHERE status = 'refunded') AS _refunded,\n"
        f"    COALESCE(sum(amount) FILTER (WHERE status IN ({held})), 0) AS _held\n"
        f"  FROM {refunds} WHERE {mine} GROUP BY order_key"
    )
    joined = (
        "SELECT o.*, r._refunds, r._refunded, r._held,\n"
        f"    {_by_platform({p: s.base for p, s in parts.items()})} AS _base,\n"
        f"    {_by_platform({p: s.said for p, s in parts.items()})} AS _said,\n"
        f"    {_by_platform({p: s.own for p, s in parts.items()})} AS _own\n"
        "  FROM so AS o LEFT JOIN st AS r ON r.order_key = o.order_key"
    )
    # refunded by a partial_refund code only; with no mapping that has such codes, never
    by_code = "_status = 'refunded' AND _said IS NOT NULL AND _base <> 'refunded'"
    partial, untold = (
        (f"{by_code} AND _refunds > 0 AND _held < {_GOODS_PAID}", f"{by_code} AND _refunds IS NULL")
        if parts
        else ("false", "false")
    )
    judged = (
        "SELECT *, COALESCE(_refunded > pay_amount, false) AS _exceeds,\n"
        f"    COALESCE({partial}, false) AS _partial,\n"
        f"    COALESCE({untold}, false) AS _untold\n"
        "  FROM sj"
    )
    exceeds_note = (
        f"{lit(EXCEEDS + ': refunds ')} || {_money('_refunded')} || ' of order ' || order_key || "
        f"' exceed its payment ' || {_money('pay_amount')}"
    )
    partial_note = (
        f"{lit(PARTIAL + ': ')} || _said || ' says refunded, but the refunds of order ' || order_key || "
        f"' total ' || {_money('_held')} || ' of its payment ' || {_money('pay_amount')} || "
        f"CASE WHEN {_POSTAGE} > 0 THEN ' less postage ' || {_money(_POSTAGE)} ELSE '' END || "
        "': status ' || _base || ', as ' || _own || ' says'"
    )
    with_partial = [("_partial", lit(PARTIAL), partial_note)] if parts else []
    flag_cases = ", ".join(
        f"CASE WHEN {c} THEN {f} END" for c, f, _ in [("_exceeds", lit(EXCEEDS), ""), *with_partial]
    )
    note_cases = ", ".join(
        f"CASE WHEN {c} THEN {n} END" for c, _, n in [("_exceeds", "", exceeds_note), *with_partial]
    )
    settled = {
        "status": "CASE WHEN _partial THEN _base ELSE _status END" if parts else "_status",
        "quality_flags": f"NULLIF(concat_ws(',', _flags, {flag_cases}), '')",
        "quality_notes": f"NULLIF(concat_ws({sep}, _notes, {note_cases}), '')",
    }
    cols = ", ".join(f"{e} AS {c}" for c, e in settled.items())
    changed = " OR ".join(f"{e} IS DISTINCT FROM {c}" for c, e in settled.items())
    return (
        f"WITH st AS ({totals}),\n  so AS ({stripped}),\n  sj AS ({joined}),\n  sk AS ({judged})\n"
        f"SELECT order_key, platform, {cols}, {changed} AS _changed, _untold FROM sk"
    )


def changed_orders_sql(settled: str, orders: str) -> str:
    """The ``unified.orders`` rows (from ``orders``) of the settled orders whose settlement changed
    them, with the settled status, flags and notes."""
    own = {"status", "quality_flags", "quality_notes"}
    cols = ", ".join(f"s.{c}" if c in own else f"o.{c}" for c in ORDERS.column_names)
    return (
        f"SELECT {cols} FROM {orders} AS o\n"
        f"JOIN (SELECT * FROM {settled} WHERE _changed) AS s ON s.order_key = o.order_key"
    )


def untold_sql(settled: str) -> str:
    """``(platform, orders)`` of the settled orders whose refund could be whole or part (``_untold``)."""
    return f"SELECT platform, count(*) FROM {settled} WHERE _untold GROUP BY platform ORDER BY platform"


def untold_note(counts: list[tuple[str, int]]) -> str | None:
    """The run summary's line on the orders ``untold_sql`` counted; None for none."""
    if not counts:
        return None
    said = ", ".join(f"{n:,} of {p}" for p, n in counts)
    return (
        f"orders refunded by a status that also follows a refund of part of an order, with no refund of "
        f"theirs in the warehouse: {said}; whole or part cannot be told yet, so they stay refunded until "
        "their refunds land (the run that brings them settles them)"
    )


def settlement_flags_sql(settled: str) -> str:
    """``(rule, orders)`` of the settlement's rules on the settled orders (the run's "flagged and kept")."""
    rules = ", ".join(lit(r) for r in RULES)
    return (
        "SELECT rule, count(*) FROM (SELECT unnest(string_split(quality_flags, ',')) AS rule\n"
        f"  FROM {settled} WHERE quality_flags IS NOT NULL) AS f WHERE rule IN ({rules}) GROUP BY rule"
    )
