"""JD (JOS) shapes: one ``orderInfoList`` element of ``jingdong.pop.order.enSearch``, after-sales, wares.

Serves 采集层 (T/JNBDA 0003-2025 clause 4.3.4) through the simulated merchant (issue 2):
``orderId`` as a string, yuan-string money, ``yyyy-MM-dd HH:mm:ss`` times with
``0001-01-01 00:00:00`` for "not set", ``itemTotal`` (the quantity) as a string, receiver under
``consigneeInfo`` (shared/platforms.md). ⚠ The after-sales shape (``serviceId``, ``afsType``,
``serviceStatus``) and the ware shape follow public JOS docs as best known; they are guesses.
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

name = "jd"
shop = "青岚京东自营旗舰店"
VENDER_ID = "10163245"
UNSET = "0001-01-01 00:00:00"
hidden_stages: frozenset[str] = frozenset({CREATED})  # JD lists an order only once it is paid
order_statuses: frozenset[object] = frozenset(
    {
        "WAIT_SELLER_STOCK_OUT",
        "WAIT_GOODS_RECEIVE_CONFIRM",
        "WAIT_SELLER_DELIVERY",
        "POP_ORDER_PAUSE",
        "PAUSE",
        "FINISHED_L",
        "TRADE_CANCELED",
        "LOCKED",
        "WAIT_SEND_CODE",
        "PARENT_TRADE_CANCELED",
    }
)
_STATUS = {
    CREATED: "WAIT_SELLER_STOCK_OUT",
    PAID: "WAIT_SELLER_STOCK_OUT",
    SHIPPED: "WAIT_GOODS_RECEIVE_CONFIRM",
    FINISHED: "FINISHED_L",
    CANCELLED: "TRADE_CANCELED",
    REFUNDING: "LOCKED",
    REFUNDED_CLOSED: "TRADE_CANCELED",
    PART_REFUNDED: "FINISHED_L",
}
_REMARK = {
    "WAIT_SELLER_STOCK_OUT": "等待出库",
    "WAIT_GOODS_RECEIVE_CONFIRM": "等待确认收货",
    "FINISHED_L": "完成",
    "TRADE_CANCELED": "取消",
    "LOCKED": "已锁定",
}


def assign_ids(draft: OrderDraft, rng: random.Random) -> None:
    draft.order_id = str(290_000_000_000 + draft.seq * 13 + rng.randrange(13))


def order_key(record: dict[str, Any]) -> str:
    return str(record.get("orderId") or "")


def _consignee(draft: OrderDraft) -> dict[str, str]:
    a = draft.account
    cached = a.rendered.get("jd")
    if cached is None:
        cached = a.rendered["jd"] = {
            "fullname": a.name,
            "mobile": a.phone,
            "telephone": "",
            "fullAddress": f"{a.province}{a.city}{a.district}{a.detail}",
            "province": a.province,
            "city": a.city,
            "county": a.district,
            "town": "",
            "encrypt_fullname": opaque("name", a.name),
            "encrypt_mobile": opaque("phone", a.phone),
            "encrypt_fullAddress": opaque("address", a.detail),
        }
    return cached


def _base(draft: OrderDraft, tt: TimeText) -> dict[str, Any]:
    """Fields that stay the same across the versions of one order (rendered once per order)."""
    cached = draft.extra.get("jd")
    if cached is not None:
        return cached  # type: ignore[return-value]
    a = draft.account
    head: dict[str, Any] = {
        "orderId": draft.order_id,
        "venderId": VENDER_ID,
        "orderType": "22",
        "payType": "4-在线支付",
        "orderTotalPrice": yuan_text(draft.total_fen),
        "orderSellerPrice": yuan_text(draft.total_fen - draft.discount_fen),
        "orderPayment": yuan_text(draft.payment_fen if draft.pay_time else 0),
        "freightPrice": yuan_text(draft.post_fee),
        "sellerDiscount": yuan_text(draft.discount_fen),
        "orderState": "",
        "orderStateRemark": "",
        "deliveryType": "任意时间",
        "invoiceInfo": "不需要开具发票",
        "orderRemark": "",
        "orderStartTime": tt(draft.created),
        "orderEndTime": UNSET,
        "modified": "",
        "paymentConfirmTime": tt(draft.pay_time) if draft.pay_time else UNSET,
        "pin": a.account_id,
        "open_id_buyer": a.extra,
        "xid_buyer": "o*AA" + a.extra[:20],
        "consigneeInfo": _consignee(draft),
        "itemInfoList": [
            {
                "skuId": ln.listing.sku_id,
                "outerSkuId": ln.listing.outer_sku_id,
                "wareId": ln.listing.item_id,
                "skuName": f"{ln.listing.title} {ln.listing.spec_text}",
                "jdPrice": yuan_text(ln.listing.price_fen),
                "itemTotal": str(ln.qty),
                "productNo": ln.listing.barcode,
                "giftPoint": "0",
            }
            for ln in draft.lines
        ],
        "waybill": "",
        "logisticsId": "",
    }
    draft.extra["jd"] = head
    return head


# JD's numeric carrier ids (logisticsId) of the simulated carriers; ⚠ see mappings/jd.toml.
CARRIER_ID = {
    "SF": "467", "YTO": "463", "ZTO": "1499", "STO": "470", "YUNDA": "1327", "JD": "2087", "EMS": "465",
}


def render_order(draft: OrderDraft, step: int, modified: int, tt: TimeText) -> dict[str, Any]:
    stage = draft.versions[step][1]
    state = _STATUS[stage]
    rec = dict(_base(draft, tt))
    rec["orderState"] = state
    rec["orderStateRemark"] = _REMARK.get(state, "")
    rec["modified"] = tt(modified)
    if stage in (FINISHED, PART_REFUNDED, CANCELLED, REFUNDED_CLOSED):
        rec["orderEndTime"] = tt(modified)
    if draft.ship_time and draft.ship_time <= modified:
        rec["waybill"] = draft.tracking_no
        rec["logisticsId"] = CARRIER_ID[draft.logistics[0]]
    return rec


def render_refund(draft: OrderDraft, refund: Refund, tt: TimeText) -> dict[str, Any]:
    ln = draft.lines[refund.line_index]
    return {
        "serviceId": int(f"9{refund.refund_id}"),
        "orderId": draft.order_id,
        "customerPin": draft.account.account_id,
        "wareId": ln.listing.item_id,
        "skuId": ln.listing.sku_id,
        "wareName": ln.listing.title,
        "afsType": 10 if refund.returned_goods else 30,  # ⚠ 10 退货 / 20 换货 / 30 仅退款 (guess)
        "afsTypeName": "退货" if refund.returned_goods else "仅退款",
        "serviceStatus": 10005,
        "serviceStatusName": "完成",
        "questionDesc": refund.reason,
        "applyTime": tt(refund.applied),
        "approvedDate": tt(refund.done),
        "refundAmount": yuan_text(refund.amount_fen),
        "applyCount": str(ln.qty),
    }


def render_item(skus: list[Listing], tt: TimeText, listed_at: int) -> dict[str, Any]:
    head = skus[0]
    return {
        "wareId": head.item_id,
        "title": head.title,
        "brandName": "青岚",
        "categoryName": head.product.category,
        "itemNum": head.product.spu_code,
        "wareStatus": 8,
        "onlineTime": tt(listed_at),
        "modified": tt(listed_at),
        "skus": [
            {
                "skuId": s.sku_id,
                "outerId": s.outer_sku_id,
                "jdPrice": yuan_text(s.price_fen),
                "barCode": s.barcode,
                "saleAttrs": [{"attrName": "规格", "attrValue": s.spec_text}],
                "stockNum": 500,
                "status": 1,
            }
            for s in skus
        ],
    }


def _drop_key(rec: dict[str, Any], rng: random.Random) -> bool:
    rec.pop("orderId", None)
    return True


def _absurd_price(rec: dict[str, Any], rng: random.Random) -> bool:
    rec["orderPayment"] = "-" + rec["orderPayment"] if rng.random() < 0.5 else "8888888.00"
    return True


def _mixed_tz(rec: dict[str, Any], rng: random.Random) -> bool:
    rec["orderStartTime"] = shift_to_iso(rec["orderStartTime"], utc=rng.random() < 0.5)
    return is_plain_time(rec["modified"])


def _test_order(rec: dict[str, Any], rng: random.Random) -> bool:
    rec["consigneeInfo"] = {**rec["consigneeInfo"], "fullname": "测试勿发"}  # never touch the shared copy
    rec["orderRemark"] = "测试订单勿发货"
    return True


def _unknown_status(rec: dict[str, Any], rng: random.Random) -> bool:
    rec["orderState"] = rng.choice(("WAIT_CUSTOMER_PICKUP_X", "UNKNOWN_STATE"))
    return True


mutators = {
    "missing_required": _drop_key,
    "price_out_of_range": _absurd_price,
    "mixed_timezone": _mixed_tz,
    "test_order": _test_order,
    "unknown_status": _unknown_status,
}
