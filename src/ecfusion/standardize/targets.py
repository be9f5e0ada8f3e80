"""The staging targets a mapping file may fill, and the fields each accepts (standard 5.2 Table 1 L2 a).

A mapping maps native payload fields onto these names; the SQL generator knows what each
target means (``orders`` is an order version, ``order_line`` its line items, ``refund`` an
after-sales request, ``member`` a CRM member or store card:
one ``unified.member_account`` row). A field not listed here is a typo the loader reports with
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
        F("nickname", "text"),
        F("name_token", "token"),
        F("phone_token", "token"),
        F("id_number_token", "token"),
        F("email_token", "token"),
        F("province", "text"),
        F("city", "text"),
        F("district", "text"),
        F("address_token", "token"),
        F("registered_at", "time"),
        F("modified_at", "time", required=True),
    ),
)

TARGETS: dict[str, Target] = {t.name: t for t in (ORDERS, ORDER_LINE, REFUND, MEMBER)}
