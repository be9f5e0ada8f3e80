"""Taobao / Tmall (TOP) shapes: a ``trade`` of ``taobao.trade.fullinfo.get``, refunds, items.

Serves 采集层 (T/JNBDA 0003-2025 clause 4.3.4) through the simulated merchant (issue 2):
field names, status codes, ``yyyy-MM-dd HH:mm:ss`` Beijing times and yuan-string money as in
shared/platforms.md; line items under ``orders.order``. ``tid`` is written as a JSON integer
(as TOP does) together with ``tid_str``; both stay exact because orjson never passes ints
through floats. Refund fields follow ``taobao.refund.get`` (⚠ from public docs, not verified);
items follow ``taobao.item.seller.get`` with ``skus.sku``.
"""

from __future__ import annotations

import random
from typing import Any

from ecfusion.simulate.calendar import TimeText
from ecfusion.simulate.catalog import Listing
from ecfusion.simulate.orders import (
    CANCELLED,
    CREATED,
    FINISHED,
    PAID,
    PART_REFUNDED,
    REFUNDED_CLOSED,
    REFUNDING,
    SHIPPED,
    OrderDraft,
    Refund,
)
from ecfusion.simulate.platforms.masking import is_plain_time, opaque, shift_to_iso, yuan_text

name = "taobao"
shop = "青岚官方旗舰店"
hidden_stages: frozenset[str] = frozenset()
order_statuses: frozenset[object] = frozenset(
    {
        "WAIT_BUYER_PAY",
        "TRADE_NO_CREATE_PAY",
        "WAIT_SELLER_SEND_GOODS",
        "SELLER_CONSIGNED_PART",
        "WAIT_BUYER_CONFIRM_GOODS",
        "TRADE_BUYER_SIGNED",
        "TRADE_FINISHED",
        "TRADE_CLOSED",
        "TRADE_CLOSED_BY_TAOBAO",
        "PAY_PENDING",
        "WAIT_PRE_AUTH_CONFIRM",
        "PAID_FORBID_CONSIGN",
    }
)
refund_statuses = frozenset(
    {
        "NO_REFUND",
        "WAIT_SELLER_AGREE",
        "WAIT_BUYER_RETURN_GOODS",
        "WAIT_SELLER_CONFIRM_GOODS",
        "SELLER_REFUSE_BUYER",
        "CLOSED",
        "SUCCESS",
    }
)

_STATUS = {
    CREATED: "WAIT_BUYER_PAY",
    PAID: "WAIT_SELLER_SEND_GOODS",
    SHIPPED: "WAIT_BUYER_CONFIRM_GOODS",
    FINISHED: "TRADE_FINISHED",
    CANCELLED: "TRADE_CLOSED_BY_TAOBAO",
    REFUNDED_CLOSED: "TRADE_CLOSED",
    PART_REFUNDED: "TRADE_FINISHED",
}


def assign_ids(draft: OrderDraft, rng: random.Random) -> None:
    # 19-digit tids (above 2**53): unique by construction from the sequence number
    draft.order_id = str(2_400_000_000_000_000_000 + draft.seq * 7919 + rng.randrange(1000))


def order_key(record: dict[str, Any]) -> str:
    return str(record.get("tid_str") or record.get("tid") or "")


def _receiver(draft: OrderDraft) -> dict[str, Any]:
    a = draft.account
    cached = a.rendered.get("taobao")
    if cached is None:
        cached = a.rendered["taobao"] = {
            "receiver_name": a.name,
            "receiver_mobile": a.phone,
            "receiver_phone": "",
            "receiver_state": a.province,
            "receiver_city": a.city,
            "receiver_district": a.district,
            "receiver_town": "",
            "receiver_address": a.detail,
            "receiver_zip": "000000",
            "oaid": opaque("oaid", a.account_id + a.detail),
        }
    return cached


def _base(draft: OrderDraft, tt: TimeText) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The fields that do not change between versions of one order (rendered once per order)."""
    cached = draft.extra.get("taobao")
    if cached is not None:
        return cached  # type: ignore[return-value]
    tid = int(draft.order_id)
    head: dict[str, Any] = {
        "tid": tid,
        "tid_str": draft.order_id,
        "status": "",
        "type": "fixed",
        "seller_nick": shop,
        "buyer_nick": draft.account.extra,
        "buyer_open_uid": draft.account.account_id,
        "created": tt(draft.created),
        "modified": "",
        "payment": yuan_text(draft.payment_fen),
        "total_fee": yuan_text(draft.total_fen),
        "post_fee": yuan_text(draft.post_fee),
        "discount_fee": yuan_text(draft.discount_fen),
        "adjust_fee": "0.00",
        "received_payment": "0.00",
        "buyer_message": "",
        "trade_from": "WAP,WAP",
        **_receiver(draft),
    }
    lines = []
    for i, ln in enumerate(draft.lines):
        li = ln.listing
        pay = yuan_text(ln.pay_fen)
        lines.append(
            {
                "oid": tid + i + 1,
                "oid_str": str(tid + i + 1),
                "num_iid": int(li.item_id),
                "sku_id": li.sku_id,
                "outer_iid": li.product.spu_code if li.outer_sku_id else "",
                "outer_sku_id": li.outer_sku_id,
                "title": li.title,
                "sku_properties_name": f"规格:{li.spec_text}",
                "num": ln.qty,
                "price": yuan_text(li.price_fen),
                "total_fee": pay,
                "payment": pay,
                "discount_fee": yuan_text(ln.discount_fen),
                "divide_order_fee": pay,
            }
        )
    draft.extra["taobao"] = (head, lines)
    return head, lines


def render_order(draft: OrderDraft, step: int, modified: int, tt: TimeText) -> dict[str, Any]:
    stage = draft.versions[step][1]
    shipped = bool(draft.ship_time) and draft.ship_time <= modified
    if stage == REFUNDING:
        status = "WAIT_BUYER_CONFIRM_GOODS" if shipped else "WAIT_SELLER_SEND_GOODS"
    else:
        status = _STATUS[stage]
    head, base_lines = _base(draft, tt)
    refunded = {x.line_index: x for x in draft.refunds}
    rec = dict(head)
    rec["status"] = status
    rec["modified"] = tt(modified)
    if draft.pay_time and stage != CREATED:
        rec["pay_time"] = tt(draft.pay_time)
    if shipped:
        rec["consign_time"] = tt(draft.ship_time)
        rec["shipping_type"] = "express"
    if stage in (FINISHED, PART_REFUNDED, CANCELLED, REFUNDED_CLOSED):
        rec["end_time"] = tt(modified if stage != PART_REFUNDED else draft.finish_time)
    if stage in (FINISHED, PART_REFUNDED):
        rec["received_payment"] = rec["payment"]
    orders = []
    for i, base in enumerate(base_lines):
        refund_status = "NO_REFUND"
        if i in refunded:
            if stage == REFUNDING:
                refund_status = "WAIT_SELLER_AGREE"
            elif stage in (REFUNDED_CLOSED, PART_REFUNDED):
                refund_status = "SUCCESS"
        line = dict(base)
        line["status"] = status
        if shipped:  # every line travels in the order's one parcel
            line["invoice_no"] = draft.tracking_no
            line["logistics_company"] = draft.logistics[1]
            line["consign_time"] = rec["consign_time"]
        line["refund_status"] = refund_status
        if refund_status != "NO_REFUND":
            line["refund_id"] = 180_000_000_000_000 + int(refunded[i].refund_id)
        orders.append(line)
    rec["orders"] = {"order": orders}
    return rec


def render_refund(draft: OrderDraft, refund: Refund, tt: TimeText) -> dict[str, Any]:
    ln = draft.lines[refund.line_index]
    return {
        "refund_id": 180_000_000_000_000 + int(refund.refund_id),
        "tid": int(draft.order_id),
        "oid": int(draft.order_id) + refund.line_index + 1,
        "buyer_nick": draft.account.extra,
        "buyer_open_uid": draft.account.account_id,
        "seller_nick": shop,
        "status": "SUCCESS",
        "order_status": "TRADE_CLOSED" if refund.whole else "TRADE_FINISHED",
        "refund_fee": yuan_text(refund.amount_fen),
        "total_fee": yuan_text(draft.total_fen),
        "payment": yuan_text(draft.payment_fen),
        "created": tt(refund.applied),
        "modified": tt(refund.done),
        "reason": refund.reason,
        "desc": "",
        "has_good_return": refund.returned_goods,
        "good_status": "BUYER_RETURNED_GOODS"
        if refund.returned_goods
        else ("BUYER_RECEIVED" if refund.after_ship else "BUYER_NOT_RECEIVED"),
        "refund_phase": "aftersale" if draft.finish_time and refund.applied > draft.finish_time else "onsale",
        "num_iid": int(ln.listing.item_id),
        "sku": ln.listing.sku_id,
        "title": ln.listing.title,
        "num": ln.qty,
    }


def render_item(skus: list[Listing], tt: TimeText, listed_at: int) -> dict[str, Any]:
    head = skus[0]
    return {
        "num_iid": int(head.item_id),
        "title": head.title,
        "nick": shop,
        "cid": 50011977,
        "outer_id": head.product.spu_code,
        "approve_status": "onsale",
        "price": yuan_text(min(s.price_fen for s in skus)),
        "num": 1000,
        "list_time": tt(listed_at),
        "modified": tt(listed_at),
        "props_name": f"20000:3275069:品牌:青岚;1627207:规格:{head.product.category}",
        "skus": {
            "sku": [
                {
                    "sku_id": int(s.sku_id),
                    "properties_name": f"1627207:28341:规格:{s.spec_text}",
                    "outer_id": s.outer_sku_id,
                    "price": yuan_text(s.price_fen),
                    "quantity": 500,
                    "barcode": s.barcode,
                }
                for s in skus
            ]
        },
    }


def _drop_key(rec: dict[str, Any], rng: random.Random) -> bool:
    rec.pop("tid", None)
    rec.pop("tid_str", None)
    return True


def _absurd_price(rec: dict[str, Any], rng: random.Random) -> bool:
    rec["payment"] = "-" + rec["payment"] if rng.random() < 0.5 else "9999999.00"
    return True


def _mixed_tz(rec: dict[str, Any], rng: random.Random) -> bool:
    if not is_plain_time(rec.get("created")):
        return False
    rec["created"] = shift_to_iso(rec["created"], utc=rng.random() < 0.5)
    return True


def _test_order(rec: dict[str, Any], rng: random.Random) -> bool:
    rec["receiver_name"] = "测试订单勿发货"
    rec["buyer_nick"] = "test_buyer_" + str(rng.randrange(100))
    rec["buyer_message"] = "测试订单，请勿发货"
    return True


def _unknown_status(rec: dict[str, Any], rng: random.Random) -> bool:
    rec["status"] = rng.choice(("TRADE_UNKNOWN", "WAIT_SELLER_SEND_GOODS_X"))
    return True


mutators = {
    "missing_required": _drop_key,
    "price_out_of_range": _absurd_price,
    "mixed_timezone": _mixed_tz,
    "test_order": _test_order,
    "unknown_status": _unknown_status,
}
