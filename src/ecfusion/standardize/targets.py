"""The staging targets a mapping file may fill, and the fields each accepts (standard 5.2 Table 1 L2 a).

A mapping maps native payload fields onto these names; the SQL generator knows what each
target means (``orders`` is an order version, ``order_line`` its line items, ``shipment`` its parcels,
``refund`` an
after-sales request, ``member`` a CRM member or store card:
one ``unified.member_account`` row; the keyed targets below — listings, inventory, events, ad
touches, tickets, campaigns, coupons, CRM levels and points, POS sales — are staged one row per raw
record and merged by natural key in ``warehouse/keyed.py``). A field not listed here is a typo the loader
reports with
the allowed names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FieldType = Literal["text", "id", "int", "money", "time", "token", "bool"]


@dataclass(frozen=True)
class TargetField:
    name: str
    type: FieldType
    required: bool = False
    vocabulary: str | None = None  # a field filled through an enum map names its vocabulary


@dataclass(frozen=True)
class Target:
    name: str
    raw_entity: str | None  # None: nested inside another target's records (order lines)
    fields: tuple[TargetField, ...]

    def field(self, name: str) -> TargetField | None:
        return next((f for f in self.fields if f.name == name), None)


F = TargetField

ORDERS = Target(
    "orders",
    "orders",
    (
        F("platform_order_id", "id", required=True),
        F("shop_name", "text"),
        F("account_id", "id"),
        F("buyer_nickname", "text"),
        F("status", "text", required=True, vocabulary="order_status"),
        F("created_at", "time"),
        F("paid_at", "time"),
        F("shipped_at", "time"),
        F("finished_at", "time"),
        F("modified_at", "time", required=True),
        F("goods_amount", "money"),
        F("discount_amount", "money"),
        F("freight_amount", "money"),
        F("pay_amount", "money"),
        F("receiver_name_token", "token"),
        F("receiver_phone_token", "token"),
        F("receiver_phone_masked", "token"),
        F("receiver_province", "text"),
        F("receiver_city", "text"),
        F("receiver_district", "text"),
        F("receiver_address_token", "token"),
        # Where the receiver's phone was issued, derived at landing (``<phone field>_region``,
        # contracts §3): fills a missing receiver region as a flagged completion.
        F("receiver_phone_province", "text"),
        F("receiver_phone_city", "text"),
    ),
)

ORDER_LINE = Target(
    "order_line",
    None,
    (
        F("line_id", "id"),
        F("item_id", "id"),
        F("sku_id", "id"),
        F("outer_sku_code", "text"),
        F("barcode", "text"),
        F("title", "text"),
        F("spec_text", "text"),
        F("quantity", "int"),
        F("unit_price", "money"),
        F("line_amount", "money"),
        F("discount_amount", "money"),
        F("pay_amount", "money"),
        F("refund_status", "text", vocabulary="line_refund_status"),
    ),
)

# The parcels an order version names (``unified.shipment``), parsed with the order: from a list in
# the order (``items``: Douyin ``logistics_info``, Taobao's line list) or, without ``items``, from
# the order's own fields (JD, Pinduoduo: one waybill per order). An entry without a tracking number
# is no parcel; a carrier text no carrier of the list claims leaves ``carrier_code`` empty and
# flags the shipment ``unknown_carrier`` — the order is never quarantined for its parcel.
SHIPMENT = Target(
    "shipment",
    None,
    (
        F("tracking_no", "id"),
        F("carrier", "text"),
        F("carrier_code", "text", vocabulary="carrier"),
        F("shipped_at", "time"),
    ),
)

REFUND = Target(
    "refund",
    "refunds",
    (
        F("platform_refund_id", "id", required=True),
        F("platform_order_id", "id", required=True),
        F("line_id", "id"),
        F("status", "text", required=True, vocabulary="refund_status"),
        F("reason", "text", vocabulary="refund_reason"),
        F("has_return", "bool"),
        F("amount", "money"),
        F("created_at", "time"),
        F("modified_at", "time", required=True),
    ),
)

MEMBER = Target(
    "member",
    "members",
    (
        F("member_id", "id", required=True),
        F("card_no", "id"),
        F("wechat_openid", "id"),  # the brand mini-program's openid the member is bound to
        F("nickname", "text"),
        F("name_token", "token"),
        F("phone_token", "token"),
        F("id_number_token", "token"),
        F("email_token", "token"),
        F("province", "text"),
        F("city", "text"),
        F("district", "text"),
        F("address_token", "token"),
        F("phone_province", "text"),  # derived at landing from the phone (``<field>_region``)
        F("phone_city", "text"),
        F("registered_at", "time"),
        F("modified_at", "time", required=True),
    ),
)

# ---------------------------------------------------------------- keyed entities (warehouse/keyed.py)
# One staged row per raw record (per item of ``items`` for listings); the warehouse's keyed path
# turns them into unified rows by natural key.

LISTING = Target(
    "listing",
    "products",
    (
        F("item_id", "id", required=True),
        F("sku_id", "id", required=True),
        F("outer_item_code", "text"),
        F("outer_sku_code", "text"),
        F("barcode", "text"),
        F("title", "text"),
        F("spec_text", "text"),
        F("price", "money"),
        F("category", "text", vocabulary="category"),
        F("item_status", "text"),
        F("modified_at", "time", required=True),
    ),
)

INVENTORY = Target(
    "inventory",
    "inventory",
    (
        F("sku_code", "id", required=True),
        F("warehouse", "id", required=True),
        F("warehouse_name", "text"),
        F("barcode", "text"),
        F("sku_name", "text"),
        F("snapshot_at", "time", required=True),
        F("on_hand", "int"),
        F("reserved", "int"),
        F("available", "int"),
        F("in_transit", "int"),
        F("unit_cost", "money"),
    ),
)

BEHAVIOUR_EVENT = Target(
    "behaviour_event",
    "events",
    (
        F("event_id", "id", required=True),
        F("event_type", "text", required=True, vocabulary="behaviour_event_type"),
        F("event_at", "time", required=True),
        F("device_id", "id"),
        F("user_id", "id"),
        F("openid", "id"),
        F("ip", "text"),
        F("sku_code", "text"),
        F("search_query", "text"),
        F("page", "text"),
    ),
)

_AD_TOUCH_FIELDS = (
    F("touch_id", "id", required=True),
    F("impression_id", "id"),
    F("campaign", "text"),
    F("channel", "text"),
    F("creative_id", "id"),
    F("device_id", "id"),
    F("os", "text"),
    F("touched_at", "time", required=True),
    F("cost", "money"),
)
AD_IMPRESSION = Target("ad_impression", "ad_impressions", _AD_TOUCH_FIELDS)
AD_CLICK = Target("ad_click", "ad_clicks", _AD_TOUCH_FIELDS)

SERVICE_TICKET = Target(
    "service_ticket",
    "tickets",
    (
        F("ticket_id", "id", required=True),
        F("ticket_platform", "text"),
        F("account_id", "id"),
        F("buyer_nickname", "text"),
        F("platform_order_id", "id"),
        F("phone_token", "token"),
        F("ticket_type", "text", required=True, vocabulary="ticket_type"),
        F("reason", "text", vocabulary="refund_reason"),
        F("created_at", "time", required=True),
        F("closed_at", "time"),
        F("satisfaction", "int"),
    ),
)

CAMPAIGN = Target(
    "campaign",
    "campaigns",
    (
        F("campaign_id", "id", required=True),
        F("name", "text"),
        F("campaign_type", "text"),
        F("starts_at", "time"),
        F("ends_at", "time"),
        F("platforms", "text"),
        F("channels", "text"),
        F("budget", "money"),
    ),
)

COUPON = Target(
    "coupon",
    "coupons",
    (
        F("coupon_id", "id", required=True),
        F("campaign_id", "id"),
        F("coupon_platform", "text"),
        F("coupon_type", "text", vocabulary="coupon_type"),
        F("account_id", "id"),
        F("face_value", "money"),
        F("threshold", "money"),
        F("issued_at", "time"),
        F("used_order_id", "id"),
        F("used_at", "time"),
        F("status", "text", required=True, vocabulary="coupon_status"),
    ),
)

MEMBER_LEVEL = Target(
    "member_level",
    "member_levels",
    (
        F("level_code", "id", required=True),
        F("level_name", "text"),
        F("min_points", "int"),
        F("discount_pct", "int"),
    ),
)

POINTS_ENTRY = Target(
    "points_entry",
    "points_ledger",
    (
        F("entry_id", "id", required=True),
        F("member_id", "id", required=True),
        F("change_points", "int", required=True),
        F("reason", "text"),
        F("created_at", "time", required=True),
    ),
)

POS_SALE = Target(
    "pos_sale",
    "sales",
    (
        F("receipt_no", "id", required=True),
        F("store_code", "id", required=True),
        F("store_name", "text"),
        F("sold_at", "time", required=True),
        F("card_no", "id"),
        F("phone_token", "token"),
        F("barcode", "text"),
        F("sku_code", "id", required=True),
        F("title", "text"),
        F("quantity", "int", required=True),
        F("unit_price", "money", required=True),
        F("pay_amount", "money"),
    ),
)

# A parcel tracking push (a tracking service's subscription push, one record per push): one staged
# row per event of its history (``items``); pushes repeat earlier events, which merge by key.
TRACKING_EVENT = Target(
    "tracking_event",
    "traces",
    (
        F("tracking_no", "id", required=True),
        F("carrier", "text"),
        F("carrier_code", "text", vocabulary="carrier"),
        F("event_at", "time", required=True),
        F("event", "text", required=True, vocabulary="tracking_event"),
        F("description", "text"),
        F("location", "text"),
    ),
)

# The merchant's product master (ERP 商品档案): one record per SKU, its SPU's fields repeated; the
# SPU table is derived from the SKUs (warehouse/spu.py).
SKU = Target(
    "sku",
    "product_master",
    (
        F("sku_code", "id", required=True),
        F("spu_id", "id"),
        F("spu_name", "text"),
        F("brand", "text"),
        F("sku_name", "text"),
        F("category", "text", vocabulary="category"),
        F("barcode", "text"),
        F("spec_text", "text"),
        F("list_price", "money"),
        F("modified_at", "time", required=True),
    ),
)

KEYED_TARGETS = (
    LISTING,
    INVENTORY,
    BEHAVIOUR_EVENT,
    AD_IMPRESSION,
    AD_CLICK,
    SERVICE_TICKET,
    CAMPAIGN,
    COUPON,
    MEMBER_LEVEL,
    POINTS_ENTRY,
    POS_SALE,
    TRACKING_EVENT,
    SKU,
)

TARGETS: dict[str, Target] = {
    t.name: t for t in (ORDERS, ORDER_LINE, SHIPMENT, REFUND, MEMBER, *KEYED_TARGETS)
}

# the raw entities some target reads: a raw file of any other entity waits as pending forever
RAW_ENTITIES: tuple[str, ...] = tuple(sorted({t.raw_entity for t in TARGETS.values() if t.raw_entity}))


def unread_entity_hint(entity: str) -> str:
    """What to tell the user of raw records of ``entity``, which no target reads: the entity it
    looks like a misspelling of, and the way to land them again."""
    from difflib import get_close_matches

    close = get_close_matches(entity, RAW_ENTITIES, n=1, cutoff=0.6)
    if close:
        return (f"did you mean '{close[0]}'? then land the files again with --entity {close[0]} (they are "
                f"read anew under it); files of entity={entity} wait in the raw zone, read by no run")
    return (f"the entities a run reads are {', '.join(RAW_ENTITIES)}: land the files again with --entity "
            f"set to one of them; files of entity={entity} wait in the raw zone, read by no run")
