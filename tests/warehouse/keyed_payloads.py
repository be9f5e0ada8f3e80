"""Test payloads for the keyed entities, in each source's real shape (see simulate/*): one builder per
raw entity, and ``land_all`` that lands a small merchant's worth of every one of them (also used by
the two-engine parity test)."""

from __future__ import annotations

from typing import Any

from rawzone import RawZone, token


def taobao_item(
    num_iid: int, modified: str, *, category: str = "美妆护肤/面霜", price: str = "99.00", skus: int = 2
) -> dict[str, Any]:
    return {
        "num_iid": num_iid,
        "title": f"青岚面霜 {num_iid}",
        "cid": 50011977,
        "outer_id": "QL001",
        "approve_status": "onsale",
        "modified": modified,
        "props_name": f"20000:3275069:品牌:青岚;1627207:规格:{category}",
        "skus": {
            "sku": [
                {
                    "sku_id": 777 + i,
                    "properties_name": f"1627207:28341:规格:{50 + i}g",
                    "outer_id": f"SKU-{i}",
                    "price": price,
                    "barcode": f"697532100000{i}",
                }
                for i in range(skus)
            ]
        },
    }


def douyin_product(product_id: str) -> dict[str, Any]:
    return {
        "product_id": product_id,
        "name": "青岚洁面乳",
        "outer_product_id": "QL008",
        "status": 0,
        "update_time": "2026-11-01 09:00:00",
        "category_detail": {"first_cname": "美妆护肤", "second_cname": "洁面"},
        "spec_prices": [
            {
                "sku_id": "1436999596716311649",
                "code": "QL008-01",
                "price": 6470,
                "spec_detail_name1": "100g",
                "barcode": "",
            }
        ],
    }


def pdd_goods(goods_id: int) -> dict[str, Any]:
    return {
        "goods_id": goods_id,
        "goods_name": "青岚屏障霜",
        "outer_goods_id": "QL007",
        "created_at": 1727884800,
        "sku_list": [{"sku_id": 3076221070328, "outer_id": "QL007-01", "spec": "50克", "price": 16120}],
    }


def pos_row(
    receipt: str,
    sku: str,
    *,
    qty: str = "1",
    price: str = "199.00",
    paid: str = "179.10",
    card: str = "886000007919",
    title: str = "青岚精华液 30ml",
    when: str = "2026-11-01 11:48:19",
) -> dict[str, Any]:
    return {
        "门店编码": "SH002",
        "门店名称": "青岚上海静安嘉里店",
        "小票号": receipt,
        "销售时间": when,
        "会员卡号": card,
        "会员手机": "",
        "商品条码": "6975321000012",
        "商品编码": sku,
        "商品名称": title,
        "数量": qty,
        "单价": price,
        "实收金额": paid,
    }


def event(
    event_id: str, kind: str = "view", ts: object = 1762000000000, user: str | None = "U1",
    ip: str = "120.21.0.206",
) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "event_type": kind,
        "ts": ts,
        "device_id": "D-1",
        "ip": ip,
        "user_id": user,
        "openid": None,
        "sku": "QL00155",
        "query": None,
        "page": "pages/goods/detail",
    }


def coupon(coupon_id: str, status: str, used_at: str | None = None) -> dict[str, Any]:
    return {
        "coupon_id": coupon_id,
        "campaign_id": "CMP-NHJ",
        "platform": "jd",
        "type": "满减券",
        "threshold": 300.0,
        "amount": 30.0,
        "account": "jd_341a",
        "issued_at": "2026-11-01 12:57:27",
        "used_order": "2900" if used_at else None,
        "used_at": used_at,
        "status": status,
    }


def ticket(ticket_id: str, kind: str = "投诉", reason: str = "价格保护") -> dict[str, Any]:
    return {
        "ticket_id": ticket_id,
        "platform": "taobao",
        "buyer_id": "AAH1",
        "buyer_nick": "tb1",
        "order_id": "1",
        "phone": token("phone", "13800138000"),
        "type": kind,
        "reason": reason,
        "created_at": "2026-11-02 02:27:34",
        "closed_at": "2026-11-02 15:11:52",
        "satisfaction": 4,
    }


def land_all(raw: RawZone) -> None:
    """One batch of every keyed entity, each with a clean record and (where it has one) a bad one."""
    raw.add(
        "taobao",
        "products",
        [
            taobao_item(555, "2026-11-01 09:00:00"),
            taobao_item(901, "2026-11-01 09:00:00", category="美妆护肤/不存在"),
        ],
    )
    raw.add("douyin", "products", [douyin_product("3720001046004784331")])
    raw.add("pdd", "products", [pdd_goods(704902442614)])
    raw.add(
        "erp",
        "inventory",
        [
            {
                "snapshot_date": "2026-11-08",
                "warehouse_code": "WH-GZ",
                "warehouse_name": "广州华南仓",
                "sku_code": "QL00151",
                "barcode": "6975321001514",
                "sku_name": "遮瑕液",
                "on_hand": "3397",
                "reserved": "106",
                "available": "3291",
                "in_transit": "496",
                "unit_cost": "27.72",
            },
            {"snapshot_date": "2026-11-08", "warehouse_code": "WH-GZ", "sku_code": "", "on_hand": "1"},
        ],
    )
    raw.add(
        "app",
        "events",
        [
            event("E1"),
            event("E2", "search", user=None, ip="120.21.0"),  # no IP address: flagged bad_ip
            event("E3", ts="2026-11-01T10:00:00+08:00"),
            event("E4", "share"),
        ],
    )
    raw.add(
        "ads",
        "ad_impressions",
        [
            {
                "impression_id": "IM1",
                "campaign": "taobao-新品",
                "channel": "阿里妈妈",
                "creative_id": "CR1",
                "ts": 1762000000000,
                "device_id": "D-1",
                "os": "ios",
                "cost_fen": 5,
            }
        ],
        source="ads",
    )
    raw.add(
        "ads",
        "ad_clicks",
        [
            {
                "click_id": "CK1",
                "impression_id": "IM1",
                "campaign": "taobao-新品",
                "channel": "阿里妈妈",
                "creative_id": "CR1",
                "ts": 1762000001000,
                "device_id": "D-1",
                "os": "ios",
                "cost_fen": 21,
            }
        ],
        source="ads",
    )
    raw.add("service", "tickets", [ticket("TK1"), ticket("TK2", reason="外星人")])
    raw.add(
        "marketing",
        "campaigns",
        [
            {
                "campaign_id": "CMP-NHJ",
                "name": "年货节",
                "start": "2026-11-01 00:00:00",
                "end": "2026-11-11 23:59:59",
                "platforms": ["jd"],
                "budget": 1000,
            }
        ],
    )
    raw.add("marketing", "coupons", [coupon("C1", "unused"), coupon("C2", "unused")])
    raw.add(
        "crm",
        "member_levels",
        [{"level": "L1", "level_name": "青卡会员", "min_points": 0, "discount_pct": 100}],
    )
    raw.add(
        "crm",
        "points_ledger",
        [
            {
                "entry_id": 4,
                "member_id": "M1",
                "change_points": 467,
                "reason": "消费积分",
                "created_at": "2026-11-07T14:30:26",
            }
        ],
    )
    raw.add(
        "pos",
        "sales",
        [
            pos_row("SH0021", "QL001-01"),
            pos_row("SH0021", "QL002-01", qty="2", price="50.00", paid="100.00"),
            pos_row("SH0022", "QL003-01", price="-20.00", paid="-20.00"),  # kept, flagged
            pos_row("SH0023", "QL004-01", card="00000000", title="测试商品-请勿结算"),
            pos_row("", "QL005-01"),
        ],
    )


def app_user(user_id: str, phone: str | None, updated_ms: int = 1762000500000) -> dict[str, Any]:
    """A row of the mini-program's user table (entity members): the phone is an ef1 token."""
    return {
        "user_id": user_id,
        "openid": f"o{user_id}",
        "phone": token("phone", phone) if phone else None,
        "country_code": "86" if phone else None,
        "register_time": 1700000000000,
        "update_time": updated_ms,
    }
