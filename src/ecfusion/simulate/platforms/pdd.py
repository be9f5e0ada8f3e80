"""Pinduoduo shapes: the ``order_info`` object, after-sales (``refund_list``) and goods.

Serves 采集层 (T/JNBDA 0003-2025 clause 4.3.4) through the simulated merchant (issue 2):
``order_sn`` strings (``YYMMDD-`` + 15 digits), ``yyyy-MM-dd HH:mm:ss`` times, money in yuan as
JSON numbers, numeric ``order_status`` / ``refund_status`` / ``after_sales_status``
(shared/platforms.md). There is no unpaid state: unpaid orders never appear. Receiver plaintext is
present only while awaiting shipment (after the merchant's decrypt step); ``*_mask`` copies always.
⚠ Guesses: ``open_address_id`` (the buyer/receiver handle this generator keys PDD accounts by),
the after-sales shape and its ``refund_amount`` in fen, and the goods shape.
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
from ecfusion.simulate.platforms.masking import (
    is_plain_time,
    mask_detail,
    mask_name,
    mask_phone_tail,
    shift_to_iso,
    yuan_number,
)

name = "pdd"
shop = "青岚品牌官方旗舰店"
hidden_stages: frozenset[str] = frozenset({CREATED, CANCELLED})
order_statuses: frozenset[object] = frozenset({1, 2, 3})
refund_statuses = frozenset({1, 2, 3, 4})
_ORDER_STATUS = {PAID: 1, SHIPPED: 2, FINISHED: 3, PART_REFUNDED: 3}
_REFUND = {REFUNDING: (2, 2), REFUNDED_CLOSED: (4, 10), PART_REFUNDED: (4, 10)}


def assign_ids(draft: OrderDraft, rng: random.Random) -> None:
    yymmdd = _yymmdd(draft.created)
    draft.order_id = f"{yymmdd}-{100_000_000_000_000 + draft.seq * 97 + rng.randrange(97)}"


def _yymmdd(bj: int) -> str:
    import time

    return time.strftime("%y%m%d", time.gmtime(bj))


def order_key(record: dict[str, Any]) -> str:
    return str(record.get("order_sn") or "")


def _base(draft: OrderDraft, tt: TimeText) -> dict[str, Any]:
    """Fields that stay the same across the versions of one order (rendered once per order)."""
    cached = draft.extra.get("pdd")
    if cached is not None:
        return cached  # type: ignore[return-value]
    a = draft.account
    head: dict[str, Any] = {
        "order_sn": draft.order_id,
        "order_status": 0,
        "refund_status": 1,
        "after_sales_status": 0,
        "confirm_status": 1,
        "risk_control_status": 0,
        "trade_type": 0,
        "created_time": tt(draft.created),
        "confirm_time": tt(draft.pay_time),
        "pay_time": tt(draft.pay_time),
        "shipping_time": "",
        "receive_time": "",
        "updated_at": "",
        "pay_amount": yuan_number(draft.payment_fen),
        "goods_amount": yuan_number(draft.total_fen),
        "postage": yuan_number(draft.post_fee),
        "discount_amount": yuan_number(draft.discount_fen),
        "seller_discount": yuan_number(draft.discount_fen),
        "platform_discount": 0.0,
        "capital_free_discount": 0.0,
        "pay_type": "WEIXIN",
        "country": "中国",
        "province": a.province,
        "city": a.city,
        "town": a.district,
        "receiver_name": "",
        "receiver_phone": "",
        "receiver_address": "",
        "address": "",
        "receiver_name_mask": mask_name(a.name),
        "receiver_phone_mask": mask_phone_tail(a.phone),
        "receiver_address_mask": mask_detail(a.detail),
        "address_mask": f"{a.province}{a.city}{a.district}{mask_detail(a.detail)}",
        "open_address_id": a.account_id,
        "tracking_number": "",
        "logistics_id": 0,
        "buyer_memo": "",
        "remark": "",
        "item_list": [
            {
                "goods_id": int(ln.listing.item_id),
                "sku_id": int(ln.listing.sku_id),
                "goods_count": ln.qty,
                "goods_price": yuan_number(ln.listing.price_fen),
                "goods_name": ln.listing.title,
                "goods_spec": ln.listing.spec_text,
                "outer_id": ln.listing.outer_sku_id,
                "outer_goods_id": ln.listing.product.spu_code if ln.listing.outer_sku_id else "",
                "goods_img": f"https://img.pddpic.com/goods/{ln.listing.item_id}.jpeg",
            }
            for ln in draft.lines
        ],
    }
    draft.extra["pdd"] = head
    return head


# Pinduoduo's numeric carrier ids (logistics_id) of the simulated carriers; ⚠ see mappings/pdd.toml.
CARRIER_ID = {"SF": 44, "ZTO": 115, "YTO": 85, "STO": 1, "YUNDA": 121, "JD": 120, "EMS": 118}


def render_order(draft: OrderDraft, step: int, modified: int, tt: TimeText) -> dict[str, Any]:
    stage = draft.versions[step][1]
    a = draft.account
    shipped = bool(draft.ship_time) and draft.ship_time <= modified
    # a refund does not move order_status: it stays where shipping left it
    order_status = (2 if shipped else 1) if stage in (REFUNDING, REFUNDED_CLOSED) else _ORDER_STATUS[stage]
    rec = dict(_base(draft, tt))
    rec["order_status"] = order_status
    rec["refund_status"], rec["after_sales_status"] = _REFUND.get(stage, (1, 0))
    rec["updated_at"] = tt(modified)
    if shipped:
        rec["shipping_time"] = tt(draft.ship_time)
        rec["tracking_number"] = draft.tracking_no
        rec["logistics_id"] = CARRIER_ID[draft.logistics[0]]
    if draft.finish_time and draft.finish_time <= modified:
        rec["receive_time"] = tt(draft.finish_time)
    if stage == PAID:  # plaintext (after decrypt) only while awaiting shipment
        rec["receiver_name"], rec["receiver_phone"], rec["receiver_address"] = a.name, a.phone, a.detail
        rec["address"] = f"{a.province}{a.city}{a.district}{a.detail}"
    return rec


def render_refund(draft: OrderDraft, refund: Refund, tt: TimeText) -> dict[str, Any]:
    ln = draft.lines[refund.line_index]
    return {
        "id": int(f"7{refund.refund_id}"),
        "order_sn": draft.order_id,
        "after_sales_type": 3 if refund.returned_goods else 2,
        "after_sales_status": 10,
        "after_sale_reason": refund.reason,
        "refund_amount": refund.amount_fen,  # fen (⚠ guess)
        "order_amount": draft.payment_fen,
        "goods_id": int(ln.listing.item_id),
        "sku_id": int(ln.listing.sku_id),
        "goods_number": ln.qty,
        "goods_name": ln.listing.title,
        "created_time": tt(refund.applied),
        "updated_time": tt(refund.done),
        "confirm_time": tt(refund.done),
    }


def render_item(skus: list[Listing], tt: TimeText, listed_at: int) -> dict[str, Any]:
    head = skus[0]
    return {
        "goods_id": int(head.item_id),
        "goods_name": head.title,
        "outer_goods_id": head.product.spu_code,
        "is_onsale": 1,
        "goods_quantity": 500 * len(skus),
        "created_at": listed_at - 8 * 3600,
        "sku_list": [
            {
                "sku_id": int(s.sku_id),
                "outer_id": s.outer_sku_id,
                "spec": s.spec_text,
                "sku_quantity": 500,
                "is_sku_onsale": 1,
                "multi_price": s.price_fen,
                "price": s.price_fen,  # fen (⚠ guess)
            }
            for s in skus
        ],
    }


def _drop_key(rec: dict[str, Any], rng: random.Random) -> bool:
    rec.pop("order_sn", None)
    return True


def _absurd_price(rec: dict[str, Any], rng: random.Random) -> bool:
    rec["pay_amount"] = -rec["pay_amount"] if rng.random() < 0.5 and rec["pay_amount"] else 9999999.99
    return True


def _mixed_tz(rec: dict[str, Any], rng: random.Random) -> bool:
    if not is_plain_time(rec.get("created_time")):
        return False
    rec["created_time"] = shift_to_iso(rec["created_time"], utc=rng.random() < 0.5)
    return True


def _test_order(rec: dict[str, Any], rng: random.Random) -> bool:
    rec["receiver_name_mask"] = "测**"
    rec["receiver_name"] = "测试订单" if rec["receiver_name"] else ""
    rec["remark"] = "测试订单勿发货"
    return True


def _unknown_status(rec: dict[str, Any], rng: random.Random) -> bool:
    rec["order_status"] = rng.choice((0, 9, 99))
    return True


mutators = {
    "missing_required": _drop_key,
    "price_out_of_range": _absurd_price,
    "mixed_timezone": _mixed_tz,
    "test_order": _test_order,
    "unknown_status": _unknown_status,
}
