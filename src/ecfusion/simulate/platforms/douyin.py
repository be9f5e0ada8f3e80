"""Douyin shop (抖店) shapes: one ``shop_order_list`` element, after-sales and products.

Serves 采集层 (T/JNBDA 0003-2025 clause 4.3.4) through the simulated merchant (issue 2):
ids as strings (they exceed 2**53), money in fen integers, unix-second times, ``sku_order_list``,
``post_addr`` and ``mask_post_*`` (shared/platforms.md). The plaintext ``post_receiver`` /
``post_tel`` / ``post_addr.detail`` are what the merchant holds after its authorized decrypt
step; ``encrypt_*`` hold the ciphertext handles (``##…##``, ``$$…$$``). ⚠ Guesses: the after-sales
shape (``aftersale_id``, ``aftersale_type``, ``aftersale_status``) and the product shape.
"""

from __future__ import annotations

import random
from typing import Any

from ecfusion.simulate.calendar import BEIJING_OFFSET_S, TimeText
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
from ecfusion.simulate.platforms.masking import mask_detail, mask_name, mask_phone_middle, opaque
from ecfusion.simulate.traces import KUAIDI100_CODE

name = "douyin"
shop = "青岚官方旗舰店(抖音)"
SHOP_ID = 88321456
hidden_stages: frozenset[str] = frozenset()
order_statuses: frozenset[object] = frozenset({1, 105, 2, 101, 3, 4, 5})
main_statuses = frozenset({1, 105, 2, 101, 103, 3, 4, 5, 21, 22, 39})
_STATUS = {
    CREATED: (1, "待支付"),
    PAID: (2, "备货中"),
    SHIPPED: (3, "已发货"),
    FINISHED: (5, "已完成"),
    CANCELLED: (4, "已取消"),
    PART_REFUNDED: (5, "已完成"),
}


def unix(bj: int) -> int:
    return bj - BEIJING_OFFSET_S if bj else 0


def assign_ids(draft: OrderDraft, rng: random.Random) -> None:
    draft.order_id = str(6_920_000_000_000_000_000 + draft.seq * 101 + rng.randrange(50))


def order_key(record: dict[str, Any]) -> str:
    return str(record.get("order_id") or "")


def _status(draft: OrderDraft, stage: str, shipped: bool) -> tuple[int, str, int]:
    if stage == REFUNDING:
        return (3, "已发货", 3) if shipped else (2, "备货中", 2)
    if stage == REFUNDED_CLOSED:
        main = 22 if shipped else 21
        if draft.finish_time:
            main = 39
        return 4, "已取消", main
    status, desc = _STATUS[stage]
    return status, desc, status


def _receiver(draft: OrderDraft) -> dict[str, Any]:
    a = draft.account
    cached = a.rendered.get("douyin")
    if cached is None:
        code = a.area_code  # ⚠ Douyin's own area ids are not public here; GB/T 2260 codes stand in
        addr = {
            "province": {"name": a.province, "id": code[:2]},
            "city": {"name": a.city, "id": code + "00"},
            "town": {"name": a.district, "id": ""},
            "street": {"name": "", "id": ""},
        }
        cached = a.rendered["douyin"] = {
            "post_receiver": a.name,
            "post_tel": a.phone,
            "encrypt_post_receiver": opaque("name", a.name, "##"),
            "encrypt_post_tel": opaque("phone", a.phone, "$$"),
            "mask_post_receiver": mask_name(a.name),
            "mask_post_tel": mask_phone_middle(a.phone),
            "post_addr": {**addr, "detail": a.detail, "encrypt_detail": opaque("address", a.detail, "#")},
            "mask_post_addr": {**addr, "detail": mask_detail(a.detail)},
        }
    return cached


def _base(draft: OrderDraft) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Fields that stay the same across the versions of one order (rendered once per order)."""
    cached = draft.extra.get("douyin")
    if cached is not None:
        return cached  # type: ignore[return-value]
    head: dict[str, Any] = {
        "order_id": draft.order_id,
        "shop_id": SHOP_ID,
        "shop_name": shop,
        "doudian_open_id": draft.account.account_id,
        "order_status": 0,
        "order_status_desc": "",
        "main_status": 0,
        "main_status_desc": "",
        "create_time": unix(draft.created),
        "pay_time": 0,
        "update_time": 0,
        "finish_time": 0,
        "ship_time": 0,
        "order_amount": draft.payment_fen,
        "pay_amount": draft.payment_fen if draft.pay_time else 0,
        "post_amount": draft.post_fee,
        "promotion_amount": draft.discount_fen,
        "pay_type": 1,
        **_receiver(draft),
        "buyer_words": "",
        "seller_words": "",
    }
    lines = [
        {
            "sku_order_id": str(int(draft.order_id) + i + 1),
            "parent_order_id": draft.order_id,
            "product_id": ln.listing.item_id,
            "product_name": ln.listing.title,
            "sku_id": ln.listing.sku_id,
            "out_sku_id": ln.listing.outer_sku_id,
            "code": ln.listing.barcode or ln.listing.outer_sku_id,
            "spec": [{"name": "规格", "value": ln.listing.spec_text}],
            "item_num": ln.qty,
            "origin_amount": ln.listing.price_fen * ln.qty,
            "pay_amount": ln.pay_fen,
            "create_time": unix(draft.created),
        }
        for i, ln in enumerate(draft.lines)
    ]
    draft.extra["douyin"] = (head, lines)
    return head, lines


_NO_AFTER_SALE = {"after_sale_status": 0, "refund_status": 0}


# Douyin's carrier codes (logistics_info.company) are kuaidi100's pinyin codes.
COMPANY_CODE = KUAIDI100_CODE


def render_order(draft: OrderDraft, step: int, modified: int, tt: TimeText) -> dict[str, Any]:
    stage = draft.versions[step][1]
    shipped = bool(draft.ship_time) and draft.ship_time <= modified
    status, desc, main = _status(draft, stage, shipped)
    refunded = {x.line_index for x in draft.refunds}
    head, base_lines = _base(draft)
    updated = unix(modified)
    sku_orders = []
    for i, base in enumerate(base_lines):
        after = _NO_AFTER_SALE
        if i in refunded:
            if stage == REFUNDING:
                after = {"after_sale_status": 6, "refund_status": 1}
            elif stage in (REFUNDED_CLOSED, PART_REFUNDED):
                after = {"after_sale_status": 12, "refund_status": 3}
        line = dict(base)
        line["order_status"] = status
        line["update_time"] = updated
        line["after_sale_info"] = after
        sku_orders.append(line)
    rec = dict(head)
    rec.update(
        order_status=status,
        order_status_desc=desc,
        main_status=main,
        main_status_desc=desc,
        update_time=updated,
    )
    if stage != CREATED:
        rec["pay_time"] = unix(draft.pay_time)
    if stage in (FINISHED, PART_REFUNDED):
        rec["finish_time"] = unix(draft.finish_time)
    rec["sku_order_list"] = sku_orders
    if shipped:
        rec["ship_time"] = unix(draft.ship_time)
        rec["logistics_info"] = [
            {
                "tracking_no": draft.tracking_no,
                "company": COMPANY_CODE[draft.logistics[0]],
                "company_name": draft.logistics[1],
                "ship_time": unix(draft.ship_time),
            }
        ]
    else:
        rec["logistics_info"] = []
    return rec


def render_refund(draft: OrderDraft, refund: Refund, tt: TimeText) -> dict[str, Any]:
    ln = draft.lines[refund.line_index]
    kind = (
        0 if refund.returned_goods else (1 if refund.after_ship else 2)
    )  # ⚠ 0 退货退款 1 已发货仅退款 2 未发货仅退款
    return {
        "aftersale_id": str(7_100_000_000_000_000_000 + int(refund.refund_id)),
        "order_id": draft.order_id,
        "sku_order_id": str(int(draft.order_id) + refund.line_index + 1),
        "aftersale_type": kind,
        "aftersale_status": 12,
        "refund_status": 3,
        "refund_amount": refund.amount_fen,
        "reason": refund.reason,
        "apply_time": unix(refund.applied),
        "update_time": unix(refund.done),
        "product_id": ln.listing.item_id,
        "sku_id": ln.listing.sku_id,
        "item_num": ln.qty,
    }


def render_item(skus: list[Listing], tt: TimeText, listed_at: int) -> dict[str, Any]:
    head = skus[0]
    return {
        "product_id": head.item_id,
        "name": head.title,
        "outer_product_id": head.product.spu_code,
        "status": 0,
        "check_status": 3,
        "create_time": tt(listed_at),
        "update_time": tt(listed_at),
        "category_detail": {
            "first_cname": head.product.category.split("/")[0],
            "second_cname": head.product.category.split("/")[-1],
        },
        "spec_prices": [
            {
                "sku_id": s.sku_id,
                "code": s.outer_sku_id,
                "price": s.price_fen,
                "stock_num": 500,
                "spec_detail_name1": s.spec_text,
                "barcode": s.barcode,
            }
            for s in skus
        ],
    }


def _drop_key(rec: dict[str, Any], rng: random.Random) -> bool:
    rec.pop("order_id", None)
    return True


def _absurd_price(rec: dict[str, Any], rng: random.Random) -> bool:
    rec["pay_amount"] = -rec["pay_amount"] if rng.random() < 0.5 and rec["pay_amount"] else 999_999_999
    return True


def _mixed_tz(rec: dict[str, Any], rng: random.Random) -> bool:
    # a unix time written out as an ISO string by a middleware that "helped"
    import time

    ts = rec["create_time"]
    rec["create_time"] = (
        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
        if rng.random() < 0.5
        else time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts + BEIJING_OFFSET_S)) + "+08:00"
    )
    return True


def _test_order(rec: dict[str, Any], rng: random.Random) -> bool:
    rec["post_receiver"] = "测试订单勿发货"
    rec["mask_post_receiver"] = "测**"
    rec["seller_words"] = "测试单"
    return True


def _unknown_status(rec: dict[str, Any], rng: random.Random) -> bool:
    rec["order_status"] = rng.choice((999, 0, 6))
    return True


mutators = {
    "missing_required": _drop_key,
    "price_out_of_range": _absurd_price,
    "mixed_timezone": _mixed_tz,
    "test_order": _test_order,
    "unknown_status": _unknown_status,
}
