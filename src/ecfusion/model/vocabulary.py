"""Unified vocabularies of the model (standard 6.1.2 c "统一订单状态", e "售后状态/投诉原因").

Every platform mapping file maps its native codes onto these values and nothing else; the
mapping loader rejects a map whose target is not listed here. Each value carries its Chinese
term and definition for the data dictionary.
"""

from __future__ import annotations

from enum import StrEnum


class OrderStatus(StrEnum):
    """统一订单状态 — the one order status vocabulary across platforms."""

    CREATED = "created"
    PAID = "paid"
    ON_HOLD = "on_hold"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDING = "refunding"
    REFUNDED = "refunded"
    SPLIT = "split"


ORDER_STATUS_TERMS: dict[OrderStatus, tuple[str, str]] = {
    OrderStatus.CREATED: ("待支付", "placed, payment not (fully) confirmed"),
    OrderStatus.PAID: ("待发货", "paid, awaiting shipment"),
    OrderStatus.ON_HOLD: (
        "暂停/锁定",
        "paid but held by the platform or seller (paused, locked, forbidden to ship)",
    ),
    OrderStatus.PARTIALLY_SHIPPED: ("部分发货", "some lines shipped"),
    OrderStatus.SHIPPED: ("已发货", "all lines shipped, awaiting receipt"),
    OrderStatus.DELIVERED: ("已签收", "buyer received or signed for the goods"),
    OrderStatus.COMPLETED: ("交易成功", "trade finished"),
    OrderStatus.CANCELLED: ("已取消", "closed before payment"),
    OrderStatus.REFUNDING: ("退款中", "an after-sales refund of the whole order is in progress"),
    OrderStatus.REFUNDED: ("已退款关闭", "closed after payment because everything was refunded"),
    OrderStatus.SPLIT: (
        "已拆单",
        "replaced by the orders the platform split it into, which carry its lines and payment"
        " (not counted in GMV, no payment of its own)",
    ),
}

# 状态进度 — where each status stands in an order's lifecycle. Two versions of one order that the
# platform stamps with the same modified time are told apart by it (warehouse.merge): the one further
# along is the later. After-sales come after fulfilment (a refund can be asked for once the goods
# are on their way or received); the closing statuses are terminal.
ORDER_STATUS_RANK: dict[OrderStatus, int] = {
    OrderStatus.CREATED: 0,
    OrderStatus.PAID: 1,
    OrderStatus.ON_HOLD: 2,
    OrderStatus.PARTIALLY_SHIPPED: 3,
    OrderStatus.SHIPPED: 4,
    OrderStatus.DELIVERED: 5,
    OrderStatus.COMPLETED: 6,
    OrderStatus.REFUNDING: 7,
    OrderStatus.REFUNDED: 8,
    OrderStatus.CANCELLED: 8,
    OrderStatus.SPLIT: 8,
}


class LineRefundStatus(StrEnum):
    """统一售后状态 (order line) — where a line stands in after-sales."""

    NONE = "none"
    REQUESTED = "requested"
    RETURNING = "returning"
    REFUSED = "refused"
    CLOSED = "closed"
    REFUNDED = "refunded"


class RefundReason(StrEnum):
    """统一退款原因 / 投诉原因 — unified refund and complaint reasons."""

    CHANGED_MIND = "changed_mind"
    QUALITY_ISSUE = "quality_issue"
    NOT_AS_DESCRIBED = "not_as_described"
    WRONG_ITEM = "wrong_item"
    SIZE_FIT = "size_fit"
    DAMAGED = "damaged"
    MISSING_ITEM = "missing_item"
    LATE_DELIVERY = "late_delivery"
    PRICE_PROTECTION = "price_protection"
    OTHER = "other"


REFUND_REASON_TERMS: dict[RefundReason, str] = {
    RefundReason.CHANGED_MIND: "七天无理由/不想要了",
    RefundReason.QUALITY_ISSUE: "质量问题",
    RefundReason.NOT_AS_DESCRIBED: "与描述不符",
    RefundReason.WRONG_ITEM: "发错货",
    RefundReason.SIZE_FIT: "尺码/规格不合适",
    RefundReason.DAMAGED: "破损",
    RefundReason.MISSING_ITEM: "少件/漏发",
    RefundReason.LATE_DELIVERY: "未按约定时间发货",
    RefundReason.PRICE_PROTECTION: "价保/差价",
    RefundReason.OTHER: "其他",
}


class RefundStatus(StrEnum):
    """统一售后单状态 — status of a refund / return request."""

    REQUESTED = "requested"
    RETURNING = "returning"
    REFUSED = "refused"
    CLOSED = "closed"
    REFUNDED = "refunded"


# 售后单状态进度 — the same tie-break for two versions of one refund stamped with the same time.
REFUND_STATUS_RANK: dict[RefundStatus, int] = {
    RefundStatus.REQUESTED: 0,
    RefundStatus.RETURNING: 1,
    RefundStatus.REFUSED: 2,
    RefundStatus.CLOSED: 2,
    RefundStatus.REFUNDED: 2,
}


class TicketType(StrEnum):
    """统一工单类型 — what a customer-service ticket is about."""

    CONSULT = "consult"
    AFTER_SALES = "after_sales"
    COMPLAINT = "complaint"
    LOGISTICS = "logistics"


class CouponStatus(StrEnum):
    """统一券状态 — where an issued coupon stands."""

    UNUSED = "unused"
    USED = "used"
    EXPIRED = "expired"
    VOID = "void"


class CouponType(StrEnum):
    """统一券类型 — threshold (满减) or no-threshold (无门槛) coupons, or a percentage discount."""

    THRESHOLD = "threshold"
    NO_THRESHOLD = "no_threshold"
    PERCENT = "percent"


class BehaviourEventType(StrEnum):
    """统一行为类型 — app / mini-program behaviour events."""

    VIEW = "view"
    SEARCH = "search"
    ADD_TO_CART = "add_to_cart"
    PURCHASE = "purchase"


class TrackingEvent(StrEnum):
    """统一物流事件 — what happened to a parcel, as carriers and tracking services report it."""

    COLLECTED = "collected"  # 揽收: the carrier took the parcel
    IN_TRANSIT = "in_transit"  # 在途: between hubs
    OUT_FOR_DELIVERY = "out_for_delivery"  # 派件: on the courier's round
    DELIVERED = "delivered"  # 签收: signed for
    EXCEPTION = "exception"  # 疑难: a problem (address, lost, damaged)
    REJECTED = "rejected"  # 拒签: the receiver refused it
    RETURNING = "returning"  # 退回: on its way back to the sender
    RETURNED = "returned"  # 退签: signed for by the sender
    REDIRECTED = "redirected"  # 转投: handed to another carrier or address
    CUSTOMS = "customs"  # 清关: in customs clearance


def _category_vocabulary() -> type[StrEnum]:
    from ecfusion.model.categories import load_tree

    return StrEnum("Category", {n.id: n.id for n in load_tree().node})  # type: ignore[return-value]


def _carrier_vocabulary() -> type[StrEnum]:
    from ecfusion.model.carriers import load_carriers

    return StrEnum("CarrierCode", {c.code: c.code for c in load_carriers().carrier})  # type: ignore[return-value]


VOCABULARIES: dict[str, type[StrEnum]] = {
    "order_status": OrderStatus,
    "line_refund_status": LineRefundStatus,
    "refund_status": RefundStatus,
    "refund_reason": RefundReason,
    "ticket_type": TicketType,
    "coupon_status": CouponStatus,
    "coupon_type": CouponType,
    "behaviour_event_type": BehaviourEventType,
    "tracking_event": TrackingEvent,
    "category": _category_vocabulary(),  # node ids of the unified category tree (categories.toml)
    "carrier": _carrier_vocabulary(),  # codes of the unified carrier list (carriers.toml)
}
