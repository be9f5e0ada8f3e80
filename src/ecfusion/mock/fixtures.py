"""Small simulated-merchant folders for the mock platforms (contracts §1 shapes), until/besides the
generator in ``ecfusion.simulate``: orders with line items whose status changes produce later
versions, refunds and listings, per platform in its own field names, time formats and money units.

``write_platform_fixture(DIR, orders_per_platform=…)`` writes ``DIR/platforms/P/E/part-00000.jsonl``
and a ``manifest.json``; deterministic for a seed. Used by tests, the soak and the sync benchmark.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from ecfusion.sources.windows import beijing_text

PLATFORMS = ("taobao", "jd", "pdd", "douyin")
SURNAMES = "王李张刘陈杨黄赵吴周"
GIVEN = ("伟", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰")
CITIES = (("浙江省", "杭州市", "西湖区"), ("广东省", "深圳市", "南山区"), ("江苏省", "南京市", "鼓楼区"))
PRODUCTS = (("玫瑰保湿面霜 50g", 129.0), ("氨基酸洁面乳 120ml", 69.9), ("烟酰胺精华 30ml", 199.0))

Steps = list[tuple[str, float]]  # (stage, seconds after creation)


def _steps(rng: random.Random, versions: int) -> Steps:
    stages = [
        ("created", 0.0),
        ("paid", rng.uniform(30, 900)),
        ("shipped", rng.uniform(3600, 40000)),
        ("finished", rng.uniform(86400, 3 * 86400)),
    ]
    return stages[: max(1, min(versions, len(stages)))]


def _person(rng: random.Random) -> dict[str, str]:
    prov, city, district = rng.choice(CITIES)
    return {
        "name": rng.choice(SURNAMES) + rng.choice(GIVEN),
        "mobile": f"13{rng.randrange(10**9):09d}",
        "province": prov,
        "city": city,
        "district": district,
        "address": f"{prov}{city}{district}文三路{rng.randrange(1, 999)}号",
    }


def _mask_name(name: str) -> str:
    return name[0] + "*" * (len(name) - 1)


def _mask_mobile(m: str) -> str:
    return m[:3] + "****" + m[-4:]


def _money(x: float) -> str:
    return f"{x:.2f}"


def taobao_order(
    i: int, created: datetime, stage: str, at: datetime, p: dict[str, str], rng_item: int
) -> dict:
    title, price = PRODUCTS[rng_item]
    status = {
        "created": "WAIT_BUYER_PAY",
        "paid": "WAIT_SELLER_SEND_GOODS",
        "shipped": "WAIT_BUYER_CONFIRM_GOODS",
        "finished": "TRADE_FINISHED",
    }[stage]
    tid = 3_000_000_000_000 + i
    return {
        "tid": tid,
        "tid_str": str(tid),
        "status": status,
        "created": beijing_text(created),
        "pay_time": beijing_text(created + timedelta(minutes=5)) if stage != "created" else None,
        "modified": beijing_text(at),
        "payment": _money(price),
        "total_fee": _money(price),
        "post_fee": "0.00",
        "discount_fee": "0.00",
        "buyer_nick": f"tb_{i % 997}",
        "buyer_open_uid": f"AAH{i % 997:08d}",
        "receiver_name": p["name"],
        "receiver_mobile": p["mobile"],
        "receiver_state": p["province"],
        "receiver_city": p["city"],
        "receiver_district": p["district"],
        "receiver_address": p["address"],
        "oaid": f"oaid{i:012d}",
        "orders": {
            "order": [
                {
                    "oid": tid * 10 + 1,
                    "num_iid": 600_000 + rng_item,
                    "sku_id": 5_000 + rng_item,
                    "outer_sku_id": f"SKU-{rng_item:03d}",
                    "title": title,
                    "num": 1,
                    "price": _money(price),
                    "payment": _money(price),
                    "total_fee": _money(price),
                    "status": status,
                    "refund_status": "NO_REFUND",
                }
            ]
        },
    }


def jd_order(i: int, created: datetime, stage: str, at: datetime, p: dict[str, str], rng_item: int) -> dict:
    title, price = PRODUCTS[rng_item]
    state = {
        "created": "WAIT_SELLER_STOCK_OUT",
        "paid": "WAIT_SELLER_STOCK_OUT",
        "shipped": "WAIT_GOODS_RECEIVE_CONFIRM",
        "finished": "FINISHED_L",
    }[stage]
    return {
        "orderId": str(2_600_000_000 + i),
        "orderType": "22",
        "orderState": state,
        "orderStartTime": beijing_text(created),
        "paymentConfirmTime": beijing_text(created),
        "modified": beijing_text(at),
        "orderEndTime": beijing_text(at) if stage == "finished" else "0001-01-01 00:00:00",
        "pin": f"jd_{i % 991}",
        "open_id_buyer": f"o{i % 991:010d}",
        "orderTotalPrice": _money(price),
        "orderSellerPrice": _money(price),
        "orderPayment": _money(price),
        "freightPrice": "0.00",
        "sellerDiscount": "0.00",
        "consigneeInfo": {
            "fullname": p["name"],
            "mobile": p["mobile"],
            "telephone": "",
            "fullAddress": p["address"],
            "province": p["province"],
            "city": p["city"],
            "county": p["district"],
            "town": "",
        },
        "itemInfoList": [
            {
                "skuId": str(7_000 + rng_item),
                "outerSkuId": f"SKU-{rng_item:03d}",
                "wareId": str(90_000 + rng_item),
                "skuName": title,
                "jdPrice": _money(price),
                "itemTotal": "1",
            }
        ],
    }


def pdd_order(i: int, created: datetime, stage: str, at: datetime, p: dict[str, str], rng_item: int) -> dict:
    title, price = PRODUCTS[rng_item]
    status = {"created": 1, "paid": 1, "shipped": 2, "finished": 3}[stage]
    return {
        "order_sn": f"{created:%y%m%d}-{100_000_000 + i}",
        "created_time": beijing_text(created),
        "pay_time": beijing_text(created),
        "confirm_time": beijing_text(created),
        "shipping_time": beijing_text(at) if status >= 2 else "",
        "updated_at": beijing_text(at),
        "pay_amount": price,
        "goods_amount": price,
        "postage": 0.0,
        "discount_amount": 0.0,
        "order_status": status,
        "refund_status": 1,
        "after_sales_status": 0,
        "confirm_status": 1,
        "risk_control_status": 0,
        "receiver_name": p["name"],
        "receiver_phone": p["mobile"],
        "receiver_address": p["address"],
        "receiver_name_mask": _mask_name(p["name"]),
        "receiver_phone_mask": _mask_mobile(p["mobile"]),
        "receiver_address_mask": p["city"] + "****",
        "province": p["province"],
        "city": p["city"],
        "town": p["district"],
        "item_list": [
            {
                "sku_id": 8_000 + rng_item,
                "goods_id": 80_000 + rng_item,
                "goods_count": 1,
                "goods_price": price,
                "goods_name": title,
                "outer_id": f"SKU-{rng_item:03d}",
                "outer_goods_id": f"G-{rng_item:03d}",
            }
        ],
    }


def douyin_order(
    i: int, created: datetime, stage: str, at: datetime, p: dict[str, str], rng_item: int
) -> dict:
    title, price = PRODUCTS[rng_item]
    status = {"created": 1, "paid": 2, "shipped": 3, "finished": 5}[stage]
    order_id = str(6_900_000_000_000_000_000 + i)  # beyond 2^53: strings only
    fen = int(round(price * 100))
    return {
        "order_id": order_id,
        "order_status": status,
        "main_status": status,
        "create_time": int(created.timestamp()),
        "pay_time": int(created.timestamp()) + 60,
        "update_time": int(at.timestamp()),
        "order_amount": fen,
        "pay_amount": fen,
        "post_amount": 0,
        "doudian_open_id": f"dy{i % 983:010d}",
        "post_receiver": p["name"],
        "post_tel": p["mobile"],
        "encrypt_post_receiver": "",
        "encrypt_post_tel": "",
        "mask_post_receiver": _mask_name(p["name"]),
        "mask_post_tel": _mask_mobile(p["mobile"]),
        "post_addr": {
            "province": {"name": p["province"]},
            "city": {"name": p["city"]},
            "town": {"name": p["district"]},
            "street": {"name": ""},
            "detail": p["address"],
            "encrypt_detail": "",
        },
        "sku_order_list": [
            {
                "sku_order_id": str(int(order_id) + 1),
                "parent_order_id": order_id,
                "product_id": str(3_500_000 + rng_item),
                "sku_id": str(1_700_000 + rng_item),
                "out_sku_id": f"SKU-{rng_item:03d}",
                "product_name": title,
                "item_num": 1,
                "origin_amount": fen,
                "pay_amount": fen,
                "after_sale_info": {"after_sale_status": 0, "refund_status": 0},
            }
        ],
    }


ORDER_BUILDERS: dict[str, Callable[..., dict]] = {
    "taobao": taobao_order,
    "jd": jd_order,
    "pdd": pdd_order,
    "douyin": douyin_order,
}


def _refund(platform: str, order: dict, at: datetime) -> dict:
    if platform == "taobao":
        return {
            "refund_id": order["tid"] * 7,
            "tid": order["tid"],
            "oid": order["orders"]["order"][0]["oid"],
            "status": "SUCCESS",
            "refund_fee": order["payment"],
            "reason": "不想要了",
            "created": beijing_text(at),
            "modified": beijing_text(at),
        }
    if platform == "jd":
        return {
            "afsServiceId": str(int(order["orderId"]) * 3),
            "orderId": order["orderId"],
            "afsServiceStatus": 40,
            "applyTime": beijing_text(at),
            "updateTime": beijing_text(at),
            "refundAmount": order["orderPayment"],
        }
    if platform == "pdd":
        return {
            "id": zlib.crc32(order["order_sn"].encode()) * 1000 + 1,
            "order_sn": order["order_sn"],
            "after_sales_status": 10,
            "after_sales_type": 2,
            "refund_amount": order["pay_amount"],
            "created_time": beijing_text(at),
            "updated_time": beijing_text(at),
        }
    return {
        "aftersale_id": str(int(order["order_id"]) + 7),
        "order_id": order["order_id"],
        "aftersale_status": 12,
        "refund_amount": order["pay_amount"],
        "create_time": int(at.timestamp()),
        "update_time": int(at.timestamp()),
    }


def _products(platform: str, at: datetime) -> Iterator[dict]:
    for n, (title, price) in enumerate(PRODUCTS):
        if platform == "taobao":
            yield {
                "num_iid": 600_000 + n,
                "title": title,
                "price": _money(price),
                "modified": beijing_text(at),
                "skus": {"sku": [{"sku_id": 5_000 + n, "outer_id": f"SKU-{n:03d}", "price": _money(price)}]},
            }
        elif platform == "jd":
            yield {
                "wareId": str(90_000 + n),
                "title": title,
                "modified": beijing_text(at),
                "skus": [{"skuId": str(7_000 + n), "outerId": f"SKU-{n:03d}", "jdPrice": _money(price)}],
            }
        elif platform == "pdd":
            yield {
                "goods_id": 80_000 + n,
                "goods_name": title,
                "is_onsale": 1,
                "updated_at": beijing_text(at),
                "sku_list": [{"sku_id": 8_000 + n, "outer_id": f"SKU-{n:03d}", "price": price}],
            }
        else:
            yield {
                "product_id": str(3_500_000 + n),
                "name": title,
                "status": 0,
                "update_time": int(at.timestamp()),
                "specs": [{"sku_id": str(1_700_000 + n), "code": f"SKU-{n:03d}", "price": int(price * 100)}],
            }


def write_platform_fixture(
    out: Path,
    *,
    orders_per_platform: int = 200,
    start: datetime = datetime(2026, 9, 1, tzinfo=UTC),
    days: float = 3.0,
    versions: int = 3,
    refund_rate: float = 0.05,
    seed: int = 7,
    platforms: tuple[str, ...] = PLATFORMS,
) -> Path:
    """Write a small merchant folder; returns ``out``. Order versions are spread over ``days``."""
    files = []
    for platform in platforms:
        rng = random.Random(f"{seed}:{platform}")
        orders: list[tuple[float, dict]] = []
        refunds: list[tuple[float, dict]] = []
        for i in range(orders_per_platform):
            created = start + timedelta(seconds=rng.uniform(0, days * 86400))
            person, item = _person(rng), rng.randrange(len(PRODUCTS))
            last: dict = {}
            for stage, after in _steps(rng, versions):
                at = created + timedelta(seconds=after)
                last = ORDER_BUILDERS[platform](i, created, stage, at, person, item)
                orders.append((at.timestamp(), last))
            if rng.random() < refund_rate:
                at = created + timedelta(days=4)
                refunds.append((at.timestamp(), _refund(platform, last, at)))
        products = [(0.0, p) for p in _products(platform, start)]
        for entity, rows in (("orders", orders), ("refunds", refunds), ("products", products)):
            rows.sort(key=lambda r: r[0])
            path = out / "platforms" / platform / entity / "part-00000.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for _, r in rows))
            files.append(
                {
                    "path": str(path.relative_to(out)),
                    "source": platform,
                    "platform": platform,
                    "entity": entity,
                    "format": "jsonl",
                    "encoding": "utf-8",
                    "records": len(rows),
                }
            )
    manifest: dict[str, Any] = {
        "seed": seed,
        "generator_version": "mock-fixture-1",
        "files": files,
        "start_date": start.date().isoformat(),
        "end_date": (start + timedelta(days=days + 4)).date().isoformat(),
    }
    (out / "manifest.json").write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return out
