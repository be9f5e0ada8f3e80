"""The unified data model's tables, by subject domain (standard 6.1.2 a–e; 5.3.1.2).

Domains: 会员与用户 (member), 商品与品类 (product), 交易与订单 (trade), 营销与活动 (marketing),
客服与售后 (after-sales), plus logistics, inventory, behaviour and advertising, and the
warehouse's own bookkeeping (quarantine, quality flags, processed files). Money is
DECIMAL(18,2) CNY; every ``*_at`` time is UTC; ``business_date`` is the Asia/Shanghai date.
Every unified row carries ``raw_record_ids``: the ids of the raw records it was built from.
"""

from __future__ import annotations

from ecfusion.model.spec import BOOL, DATE, INT, MONEY, TEXT, TEXT_LIST, TIME, Column, Table

C = Column

RAW_IDS = C(
    "raw_record_ids",
    TEXT_LIST,
    "来源原始记录",
    "ids of every raw record this row was built from",
    "",
    "envelope raw_record_id",
    nullable=False,
)
PLATFORM = C(
    "platform",
    TEXT,
    "平台",
    "platform or system kind: taobao, jd, pdd, douyin, pos, crm, …",
    "",
    "envelope platform",
    nullable=False,
)
SOURCE = C(
    "source", TEXT, "数据源", "configured source name the record was collected from", "", "envelope source"
)
SHOP = C("shop_id", TEXT, "店铺", "shop or store the record belongs to", "", "envelope shop_id")
RUN_ID = C("run_id", TEXT, "运行批次", "run", nullable=False)  # the key of the meta tables kept per run
BIZ_DATE = C("business_date", DATE, "业务日期", "calendar date of the event in Asia/Shanghai", "date (UTC+8)")
# a kept row's outlier and format rules (price_out_of_range, mixed_timezone, …); unified.quality_flag
# has a row with the reason for each
KEPT_FLAGS = C("quality_flags", TEXT, "质量标记", "comma list of rules the row fails (kept, flagged)")
# why: the value as it was sent, which only the raw record shows (unified.quality_flag's reason)
FLAG_NOTES = C(
    "quality_notes",
    TEXT,
    "质量标记说明",
    "one line 'rule: reason' per flag whose reason needs the value as sent (money_precision: the amount"
    " sent and the amount kept; mixed_timezone: the time field that named its zone and its text)",
)


def _money(name: str, zh: str, definition: str, sources: str = "") -> Column:
    return C(name, MONEY, zh, definition, "CNY yuan", sources)


def _time(name: str, zh: str, definition: str, sources: str = "") -> Column:
    return C(name, TIME, zh, definition, "UTC", sources)


MEMBER_ACCOUNT = Table(
    "member_account",
    "平台账号",
    "member",
    "one row per platform account, CRM member or POS card that appears in any source (input of OneID)",
    (
        C("account_key", TEXT, "账号键", "<platform>:<platform_account_id>", nullable=False),
        PLATFORM,
        SHOP,
        C(
            "platform_account_id",
            TEXT,
            "平台用户ID",
            "the platform's id of the buyer",
        ),
        C(
            "wechat_openid",
            TEXT,
            "微信OpenID",
            "the brand mini-program's WeChat openid of this account (an app user's own; a CRM member's"
            " binding)",
        ),
        C(
            "card_no",
            TEXT,
            "会员卡号",
            "the merchant's loyalty card number: a CRM member's card, the card a store sale was made on",
        ),
        C(
            "nickname",
            TEXT,
            "昵称",
            "buyer nickname as shown by the platform",
        ),
        C("name_token", TEXT, "姓名(密文)", "receiver name as an ef1 token (encrypted)"),
        C("phone_token", TEXT, "手机号(密文)", "receiver mobile as an ef1 token"),
        C(
            "phone_bidx",
            TEXT,
            "手机号盲索引",
            "blind index of the normalized mobile (exact matching without plaintext)",
        ),
        C("phone_masked", TEXT, "手机号(掩码)", "masked mobile as given by the platform, e.g. 138****5678"),
        C("id_number_bidx", TEXT, "身份证号盲索引", "blind index of the ID number, when a source has it"),
        C("email_bidx", TEXT, "邮箱盲索引", "blind index of the e-mail, when a source has it"),
        C("province", TEXT, "省", "province of the latest receiver address (observed, never completed from"
          " the phone: see phone_province)"),
        C("city", TEXT, "市", "city of the latest receiver address (observed)"),
        C("district", TEXT, "区县", "district/county of the latest receiver address"),
        C("address_token", TEXT, "地址(密文)", "latest receiver detail address as an ef1 token"),
        C("address_bidx", TEXT, "地址盲索引", "blind index of that address"),
        C("phone_province", TEXT, "手机归属省",
          "province where the account's phone number was issued (号段 / area code), derived at landing"),
        C("phone_city", TEXT, "手机归属市", "city where the account's phone number was issued"),
        C("device_ids", TEXT_LIST, "设备ID", "device ids seen for the account (app and ad logs)"),
        _time("first_seen_at", "首次出现时间", "earliest order creation seen for the account"),
        _time("last_seen_at", "最近出现时间", "latest order modification seen for the account"),
        RAW_IDS,
    ),
    key=("account_key",),
    populated_by="orders of every mapped platform and POS sales (pos:<card_no>), CRM members "
    "(crm:<member_id>), the mini-program's users (app:<user_id>: its user table with the phone of "
    "WeChat's phone login, and the device ids of their behaviour events); per field, the latest "
    "record that carries a value wins, so a record that lacks a field never erases it",
)

MEMBER = Table(
    "member",
    "会员",
    "member",
    "a CRM member of the merchant's own loyalty programme: card, level by the programme's rules and"
    " points balance from the ledger (warehouse/members.py)",
    (
        C("member_key", TEXT, "会员键", "crm:<member_id>; the member's unified.member_account account_key",
          nullable=False),
        SOURCE,
        C("member_id", TEXT, "会员号", "CRM member number", "", "member_id"),
        C("card_no", TEXT, "会员卡号", "membership card number (POS sales name it: account pos:<card_no>)",
          "", "card_no"),
        C("level_code", TEXT, "会员等级编码",
          "level reached by the points balance: the member_level with the highest min_points not above it",
          "", "member_level.level_code, points_entry.change_points"),
        C("level_name", TEXT, "会员等级", "name of that level", "", "member_level.level_name"),
        C("points_balance", INT, "积分余额", "current balance: sum of every ledger change of the member",
          "points", "points_entry.change_points"),
        C("points_earned", INT, "累计获得积分", "sum of the positive ledger changes", "points",
          "points_entry.change_points"),
        C("points_spent", INT, "累计使用积分", "points redeemed: the negative changes not due to expiry,"
          " as a positive number", "points", "points_entry.change_points, reason"),
        C("points_expired", INT, "累计过期积分", "points lost to expiry (negative changes whose reason says"
          " 过期 / expire), as a positive number", "points", "points_entry.change_points, reason"),
        C("points_entries", INT, "积分流水数", "number of ledger entries of the member", "entries",
          "points_entry rows of the member"),
        C("phone_bidx", TEXT, "手机号盲索引", "blind index of the member's mobile", "", "mobile"),
        _time("registered_at", "注册时间",
              "when the member registered (the earliest record update when the CRM gives none)",
              "registered_at"),
        _time("updated_at", "资料更新时间", "latest update of the CRM member record", "updated_at"),
        _time("last_activity_at", "最近活跃时间", "latest of the record update and the last ledger entry",
              "updated_at, points_entry.created_at"),
        RAW_IDS,
    ),
    key=("member_key",),
    populated_by="crm members with their points ledger and the programme's levels (recomputed for the members"
    " whose record, ledger entries or level rules changed in a run)",
)

MEMBER_LEVEL = Table(
    "member_level",
    "会员等级",
    "member",
    "a level of the merchant's loyalty programme",
    (
        C("level_code", TEXT, "等级编码", "level code", nullable=False),
        C("level_name", TEXT, "等级名称", "level name"),
        C("min_points", INT, "最低积分", "points needed to reach the level", "points"),
        C(
            "discount_pct",
            INT,
            "折扣",
            "price paid at this level, in percent (100 = no discount)",
            "%",
        ),
        KEPT_FLAGS,
        RAW_IDS,
    ),
    key=("level_code",),
    populated_by="crm member_levels",
)

POINTS_ENTRY = Table(
    "points_entry",
    "积分流水",
    "member",
    "one change of a CRM member's points balance (the ledger is append-only)",
    (
        C("entry_key", TEXT, "流水键", "crm:<entry_id>", nullable=False),
        C("account_key", TEXT, "账号键", "member account, crm:<member_id>"),
        C("change_points", INT, "积分变动", "points added (+) or spent (−)", "points"),
        C("reason", TEXT, "原因", "reason as given"),
        _time("created_at", "发生时间", "when"),
        BIZ_DATE,
        KEPT_FLAGS,
        RAW_IDS,
    ),
    key=("entry_key",),
    populated_by="crm points_ledger",
)

CATEGORY = Table(
    "category",
    "统一类目",
    "product",
    "unified category tree: one row per node",
    (
        C("category_id", TEXT, "类目ID", "unified category id", nullable=False),
        C("parent_id", TEXT, "父类目ID", "parent node, null at the root"),
        C("name", TEXT, "类目名称", "Chinese category name"),
        C("level", INT, "层级", "1 = top level"),
        C("path", TEXT, "类目路径", "names from the root joined by ' > '"),
    ),
    key=("category_id",),
    populated_by="the unified category tree file model/categories.toml (platform aliases map onto it)",
)

SPU = Table(
    "spu",
    "标准产品单元",
    "product",
    "standard product unit (SPU) of the merchant, from its product master",
    (
        C("spu_id", TEXT, "SPU ID", "merchant product id", nullable=False),
        C("name", TEXT, "商品名称", "product name (of the SPU's latest-modified SKU record)"),
        C("brand", TEXT, "品牌", "brand"),
        C("category_id", TEXT, "类目ID", "unified category, joins unified.category"),
        C("sku_count", INT, "SKU数", "SKUs of the product master under this SPU", "pcs"),
        RAW_IDS,
    ),
    key=("spu_id",),
    populated_by="derived from unified.sku whenever a SKU of the SPU changes (warehouse/spu.py)",
)

SKU = Table(
    "sku",
    "库存保有单位",
    "product",
    "merchant SKU with barcode, from the merchant's product master (ERP 商品档案)",
    (
        C("sku_code", TEXT, "SKU编码", "merchant SKU code (outer/out sku id on platforms)", nullable=False),
        C("spu_id", TEXT, "SPU ID", "product it belongs to, joins unified.spu"),
        C("spu_name", TEXT, "产品名称", "the SPU's name as this record gives it"),
        C("brand", TEXT, "品牌", "brand"),
        C("name", TEXT, "SKU名称", "SKU name"),
        C("category_id", TEXT, "类目ID", "unified category, joins unified.category"),
        C("barcode", TEXT, "条码", "EAN-13/GTIN barcode"),
        C("spec_text", TEXT, "规格", "spec as the master writes it"),
        _money("list_price", "吊牌价", "list price"),
        _time("modified_at", "更新时间", "when the master last changed the record"),
        KEPT_FLAGS,
        RAW_IDS,
    ),
    key=("sku_code",),
    populated_by="the merchant's product master (ERP export, source erp, entity product_master; "
    "mapping erp.toml): latest modified_at wins per sku_code",
)

LISTING = Table(
    "listing",
    "平台商品SKU",
    "product",
    "one row per platform SKU listing (input of the standard SKU match)",
    (
        C("listing_key", TEXT, "商品键", "<platform>:<item_id>:<sku_id>", nullable=False),
        PLATFORM,
        SHOP,
        C(
            "item_id",
            TEXT,
            "平台商品ID",
            "platform item id",
        ),
        C("sku_id", TEXT, "平台SKU ID", "platform sku id"),
        C(
            "outer_sku_code",
            TEXT,
            "商家编码",
            "merchant's own SKU code on the listing",
        ),
        C("barcode", TEXT, "条码", "barcode when the platform gives one"),
        C("title", TEXT, "标题", "listing title"),
        C("spec_text", TEXT, "规格", "spec as 'name:value;name:value'"),
        _money(
            "price",
            "售价",
            "listed price from the platform's product feed, else the latest unit price seen in orders",
        ),
        C(
            "category_path",
            TEXT,
            "类目路径",
            "path of the unified category the platform category maps onto (' > ' between levels); "
            "empty when the platform's feed names no category or the listing is seen only in orders",
        ),
        C("category_id", TEXT, "统一类目ID", "unified category node, joins unified.category"),
        _time("last_seen_at", "最近出现时间", "latest time the listing was observed"),
        RAW_IDS,
    ),
    key=("listing_key",),
    populated_by="product feeds of taobao, jd, pdd, douyin (unified.listing_feed) overlaid on order "
    "lines and POS sales (latest observation wins); a listing seen only in orders keeps its line fields. "
    "raw_record_ids: the records its values came from (the latest line's order record and the feed's "
    "records); the orders that name it are found through unified.order_line.listing_key",
)

LISTING_FEED = Table(
    "listing_feed",
    "平台商品资料",
    "product",
    "one row per SKU of a platform's product feed: its latest version by modified time",
    (
        C("listing_key", TEXT, "商品键", "<platform>:<item_id>:<sku_id>", nullable=False),
        PLATFORM,
        SOURCE,
        SHOP,
        C("item_id", TEXT, "平台商品ID", "platform item id"),
        C("sku_id", TEXT, "平台SKU ID", "platform sku id"),
        C(
            "outer_item_code",
            TEXT,
            "商家商品编码",
            "merchant's product code on the item",
        ),
        C("outer_sku_code", TEXT, "商家编码", "merchant's SKU code"),
        C("barcode", TEXT, "条码", "barcode when the feed gives one"),
        C("title", TEXT, "标题", "item title"),
        C(
            "spec_text",
            TEXT,
            "规格",
            "spec as 'name:value;…' or the platform's spec text",
        ),
        _money("price", "售价", "listed SKU price"),
        C(
            "platform_category",
            TEXT,
            "平台类目",
            "the platform's category text as mapped",
        ),
        C("category_id", TEXT, "统一类目ID", "unified category node (model/categories.toml)"),
        C("category_path", TEXT, "类目路径", "path of that node"),
        C(
            "item_status",
            TEXT,
            "上架状态",
            "platform's listing status code as given",
        ),
        _time(
            "modified_at",
            "修改时间",
            "last modification of the item (version order)",
        ),
        KEPT_FLAGS,
        RAW_IDS,
    ),
    key=("listing_key",),
    populated_by="products of taobao, jd, pdd, douyin (latest version wins)",
)

ORDERS = Table(
    "orders",
    "订单",
    "trade",
    "one row per platform order: the latest version by modified time",
    (
        C("order_key", TEXT, "订单键", "<platform>:<platform_order_id>", nullable=False),
        PLATFORM,
        SOURCE,
        SHOP,
        C("shop_name", TEXT, "店铺名称", "name of the shop or store as the source gives it (a store sale: "
          "the store's name)"),
        C(
            "platform_order_id",
            TEXT,
            "平台订单号",
            "order id on the platform, as text (Douyin ids exceed 2^53)",
            nullable=False,
        ),
        C("account_key", TEXT, "账号键", "buyer account, joins unified.member_account"),
        C(
            "status",
            TEXT,
            "统一订单状态",
            "unified order status (see vocabulary order_status); settled against the order's refunds"
            " where the platform's says refunded also after a refund of part of it (quality_flags"
            " partial_refund)",
            nullable=False,
        ),
        C(
            "platform_status",
            TEXT,
            "平台订单状态",
            "the platform's own status code(s)",
        ),
        _time(
            "created_at",
            "下单时间",
            "when the order was placed",
        ),
        _time("paid_at", "支付时间", "when payment was confirmed"),
        _time(
            "shipped_at",
            "发货时间",
            "when the seller shipped (empty on JD: its order names no ship time; see the parcel's "
            "unified.tracking_event)",
        ),
        _time(
            "finished_at",
            "完成时间",
            "when the trade ended: the buyer confirmed receipt (or the platform did for them); on Taobao "
            "and JD also when a closed trade was closed. Empty while the order is open",
        ),
        _time(
            "modified_at",
            "修改时间",
            "last modification on the platform (version order)",
        ),
        BIZ_DATE,
        _money(
            "goods_amount",
            "商品总额",
            "sum of line prices before discounts",
        ),
        _money(
            "discount_amount",
            "优惠金额",
            "discounts borne by seller and platform",
        ),
        _money("freight_amount", "运费", "shipping fee"),
        _money(
            "pay_amount", "实付金额", "amount the buyer paid (GMV basis)"
        ),
        C("currency", TEXT, "币种", "always CNY", "ISO 4217"),
        C("receiver_name_token", TEXT, "收货人(密文)", "receiver name token"),
        C("receiver_phone_token", TEXT, "收货手机(密文)", "receiver mobile token"),
        C("receiver_phone_bidx", TEXT, "收货手机盲索引", "blind index of the receiver mobile"),
        C("receiver_phone_masked", TEXT, "收货手机(掩码)", "masked receiver mobile"),
        C("receiver_province", TEXT, "收货省", "province (observed, or completed from the phone: see"
          " receiver_region_source)"),
        C("receiver_city", TEXT, "收货市", "city (same source as receiver_province)"),
        C("receiver_district", TEXT, "收货区县", "district"),
        C("receiver_address_token", TEXT, "收货地址(密文)", "detail address token"),
        C(
            "receiver_phone_province",
            TEXT,
            "收货手机归属省",
            "province where the receiver's phone number was issued (mobile 号段 or landline area code),"
            " derived at landing before encryption",
        ),
        C("receiver_phone_city", TEXT, "收货手机归属市", "city where the receiver's phone number was issued"),
        C(
            "receiver_region_source",
            TEXT,
            "收货地域来源",
            "where receiver_province/city come from: 'address' (observed on the order) or 'phone_prefix'"
            " (missing on the order, completed from the phone's region — not observed); null: neither",
        ),
        C("buyer_nickname", TEXT, "买家昵称", "buyer nickname"),
        C(
            "quality_flags",
            TEXT,
            "质量标记",
            "comma list of rules the order fails but is kept for: "
            "price_out_of_range (pay amount < 0 or implausibly high), mixed_timezone (a time named"
            " its own zone), money_precision (an amount in yuan sent with a fraction of a fen, kept rounded"
            " to the fen); from the order's refunds in unified.refund: refund_exceeds_payment (its refunds"
            " with status refunded total more than pay_amount), partial_refund (the platform's refund status"
            " said refunded, its refunds total less than pay_amount less freight_amount, the postage a refund"
            " of every good usually keeps: status is what its own status code gives)",
        ),
        FLAG_NOTES,
        C(
            "version_raw_record_id",
            TEXT,
            "当前版本记录",
            "raw record of the version this row shows",
            nullable=False,
        ),
        C("version_count", INT, "版本数", "order versions received"),
        RAW_IDS,
    ),
    key=("order_key",),
    populated_by="orders of taobao, jd, pdd, douyin; POS sales (platform pos: one order per receipt, "
    "status completed)",
)

ORDER_LINE = Table(
    "order_line",
    "订单明细",
    "trade",
    "one row per line (sub-order) of the latest order version",
    (
        C("line_key", TEXT, "明细键", "<order_key>:<line_id>", nullable=False),
        C("order_key", TEXT, "订单键", "joins unified.orders", nullable=False),
        PLATFORM,
        SHOP,
        C("platform_order_id", TEXT, "平台订单号", "order id on the platform"),
        C("line_id", TEXT, "子订单号", "line id (oid, sku_order_id; position when the platform has none)"),
        C("listing_key", TEXT, "商品键", "joins unified.listing"),
        C("item_id", TEXT, "平台商品ID", "platform item id"),
        C("sku_id", TEXT, "平台SKU ID", "platform sku id"),
        C("outer_sku_code", TEXT, "商家编码", "merchant SKU code"),
        C("barcode", TEXT, "条码", "barcode if given"),
        C("title", TEXT, "标题", "title at purchase"),
        C("spec_text", TEXT, "规格", "spec text"),
        C("quantity", INT, "数量", "units bought", "pcs"),
        _money("unit_price", "单价", "unit price before discounts"),
        _money(
            "line_amount",
            "明细金额",
            "quantity × unit price, before any discount (or the platform's line total before discounts)",
        ),
        _money(
            "discount_amount",
            "分摊优惠",
            "discount allocated to the line: line_amount − what was paid for it where the platform's lines "
            "say what was paid (taobao divide_order_fee, douyin pay_amount); else the order's discount "
            "spread over its lines by amount, in whole fen by the largest remainder (jd, pdd), so the "
            "lines add up to the order",
        ),
        _money("pay_amount", "明细实付", "amount paid for the line after allocated discounts"),
        C(
            "refund_status",
            TEXT,
            "售后状态",
            "unified line refund status (vocabulary line_refund_status); empty where the platform's "
            "order lines carry none (JD, Pinduoduo): their refunds are in unified.refund",
        ),
        C("platform_refund_status", TEXT, "平台售后状态", "platform's line refund code"),
        BIZ_DATE,
        C("quality_flags", TEXT, "质量标记", "comma list of rules the line fails (kept, flagged): "
          "price_out_of_range, quantity_out_of_range, money_precision"),
        FLAG_NOTES,
        C("version_raw_record_id", TEXT, "订单版本记录", "raw record of the order version", nullable=False),
        RAW_IDS,
    ),
    key=("line_key",),
    populated_by="line items of each platform order; one line per POS sale row",
)

ORDER_VERSION = Table(
    "order_version",
    "订单版本",
    "trade",
    "every accepted order version, in modified order (audit trail)",
    (
        C("order_key", TEXT, "订单键", "order", nullable=False),
        PLATFORM,
        SOURCE,
        _time("modified_at", "修改时间", "platform modified time of this version"),
        C("status", TEXT, "统一订单状态", "unified status in this version"),
        C("platform_status", TEXT, "平台订单状态", "platform code(s) in this version"),
        C("quality_flags", TEXT, "质量标记", "rules this version was flagged by (kept)"),
        C("raw_record_id", TEXT, "原始记录", "the raw record of this version", nullable=False),
        C("run_id", TEXT, "运行批次", "the run that accepted it"),
        _time(
            "pulled_at",
            "拉取时间",
            "when the source pulled this version from the platform (raw envelope): of two versions with"
            " the same modified time and status progress, the one pulled later wins; null: accepted"
            " before ecfusion kept it (pulled first)",
            "envelope pulled_at",
        ),
        C(
            "has_lines",
            BOOL,
            "含明细",
            "whether this version names its line items; one that does not (a header-only update)"
            " leaves the order the lines of its latest version that does; null: accepted before"
            " ecfusion kept it (counts as true)",
        ),
        C(
            "has_contact",
            BOOL,
            "含收货人",
            "whether this version shows the receiver (name or phone); the order keeps the receiver of"
            " its latest version that does; null: accepted before ecfusion kept it (counts as true)",
        ),
    ),
    key=("raw_record_id",),
    populated_by="orders",
)

ORDER_STATUS_HISTORY = Table(
    "order_status_history",
    "订单状态历史",
    "trade",
    "every status transition of every order, in time order",
    (
        C("order_key", TEXT, "订单键", "order", nullable=False),
        C("seq", INT, "序号", "1 = first known status"),
        C("from_status", TEXT, "原状态", "previous unified status (null for the first)"),
        C("status", TEXT, "统一订单状态", "new unified status"),
        C("platform_status", TEXT, "平台订单状态", "platform code(s)"),
        _time("changed_at", "变更时间", "platform modified time of the version that shows the change"),
        C("raw_record_id", TEXT, "原始记录", "raw record showing the change"),
    ),
    key=("order_key", "seq"),
    populated_by="order versions; a store sale (POS receipt) has one entry, completed when rung up",
)

PAYMENT = Table(
    "payment",
    "支付",
    "trade",
    "one row per paid order: the payment the platform confirmed (an order split into others has"
    " none: its parts carry the payment)",
    (
        C("payment_key", TEXT, "支付键", "<order_key>:pay", nullable=False),
        C("order_key", TEXT, "订单键", "order"),
        PLATFORM,
        C(
            "method",
            TEXT,
            "支付方式",
            "'platform_escrow' for an online order (paid into the platform's escrow), "
            "'in_store' for a store sale paid at the till",
        ),
        _time("paid_at", "支付时间", "payment confirmation time"),
        _money("amount", "支付金额", "amount paid"),
        BIZ_DATE,
        RAW_IDS,
    ),
    key=("payment_key",),
    populated_by="orders with a payment time, store sales (POS receipts) included",
)

CAMPAIGN = Table(
    "campaign",
    "营销活动",
    "marketing",
    "marketing campaign",
    (
        C("campaign_id", TEXT, "活动ID", "campaign id", nullable=False),
        C("name", TEXT, "活动名称", "name"),
        C("campaign_type", TEXT, "活动类型", "unified type: discount, coupon, flash_sale, gift, points"),
        _time("starts_at", "开始时间", "start"),
        _time("ends_at", "结束时间", "end"),
        C("platforms", TEXT, "投放平台", "platforms the campaign runs on, as a JSON list"),
        C("channels", TEXT, "触达渠道", "channels it is announced on, as a JSON list"),
        _money("budget", "预算", "campaign budget"),
        KEPT_FLAGS,
        RAW_IDS,
    ),
    key=("campaign_id",),
    populated_by="marketing campaigns (a re-sent campaign replaces the row)",
)

COUPON = Table(
    "coupon",
    "优惠券",
    "marketing",
    "coupon issued to a buyer",
    (
        C("coupon_id", TEXT, "券ID", "coupon id", nullable=False),
        C("campaign_id", TEXT, "活动ID", "campaign"),
        C("platform", TEXT, "平台", "platform the coupon was issued on"),
        C("coupon_type", TEXT, "券类型", "unified coupon type (vocabulary coupon_type)"),
        C("account_key", TEXT, "账号键", "holder, <platform>:<account>"),
        _money("face_value", "面额", "face value"),
        _money("threshold", "使用门槛", "minimum spend (0 = none)"),
        _time("issued_at", "发放时间", "when issued"),
        _time("used_at", "核销时间", "when used"),
        C("order_key", TEXT, "订单键", "order it was used on"),
        C("status", TEXT, "券状态", "unified status (vocabulary coupon_status)"),
        C("platform_status", TEXT, "原始状态", "status code as given"),
        KEPT_FLAGS,
        RAW_IDS,
    ),
    key=("coupon_id",),
    populated_by="marketing coupons (latest state wins: used beats unused)",
)

DISCOUNT_ALLOCATION = Table(
    "discount_allocation",
    "优惠分摊",
    "marketing",
    "an order line's discount by where it came from: each coupon used on the order (and its "
    "campaign), and the rest; a line's rows add up to its discount_amount",
    (
        C("allocation_key", TEXT, "分摊键", "<line_key>:<coupon_id or 'other'>", nullable=False),
        C("line_key", TEXT, "明细键", "joins unified.order_line", nullable=False),
        C("order_key", TEXT, "订单键", "joins unified.orders", nullable=False),
        PLATFORM,
        C("source", TEXT, "来源", "'coupon' (a coupon used on the order) or 'other' (platform "
          "promotions, seller discounts, price changes: what no coupon explains)"),
        C("coupon_id", TEXT, "券ID", "joins unified.coupon (source 'coupon')"),
        C("campaign_id", TEXT, "活动ID", "the coupon's campaign, joins unified.campaign"),
        _money("amount", "分摊金额", "the coupon's face value (capped at the order's discount) spread over "
               "the lines by their discounts in whole fen, largest remainder; 'other' is the line's rest"),
        BIZ_DATE,
        RAW_IDS,
    ),
    key=("allocation_key",),
    populated_by="derived from unified.order_line and the used coupons of unified.coupon whenever either "
    "changes (warehouse/discounts.py)",
)

REFUND = Table(
    "refund",
    "售后退款",
    "after_sales",
    "one refund / return request: latest version by modified time",
    (
        C("refund_key", TEXT, "售后键", "<platform>:<platform_refund_id>", nullable=False),
        PLATFORM,
        SHOP,
        C("platform_refund_id", TEXT, "平台售后单号", "refund id on the platform"),
        C("order_key", TEXT, "订单键", "order refunded"),
        C("line_key", TEXT, "明细键", "line refunded, when known"),
        C("status", TEXT, "统一售后状态", "unified refund status"),
        C("platform_status", TEXT, "平台售后状态", "platform code"),
        C("reason", TEXT, "统一退款原因", "unified refund reason: the map's default ('other') for a text its"
          " codes lack, NULL when the refund gives none"),
        C("platform_reason", TEXT, "平台退款原因", "reason text as given"),
        C("has_return", BOOL, "是否退货", "goods are returned"),
        _money("amount", "退款金额", "refund amount"),
        _time("created_at", "申请时间", "request time"),
        _time("modified_at", "修改时间", "last modification"),
        BIZ_DATE,
        C("quality_flags", TEXT, "质量标记", "comma list of rules the refund fails (kept, flagged): "
          "price_out_of_range (amount < 0 or above the mapping's order bound), money_precision, "
          "mixed_timezone"),
        FLAG_NOTES,
        C("version_raw_record_id", TEXT, "当前版本记录", "raw record shown", nullable=False),
        RAW_IDS,
    ),
    key=("refund_key",),
    populated_by="refunds of each platform",
)

SERVICE_TICKET = Table(
    "service_ticket",
    "客服工单",
    "after_sales",
    "customer-service ticket with unified type and complaint reason",
    (
        C("ticket_id", TEXT, "工单ID", "ticket id", nullable=False),
        PLATFORM,
        C("account_key", TEXT, "账号键", "buyer account, <platform>:<buyer_id>"),
        C("buyer_nickname", TEXT, "买家昵称", "buyer nickname as the ticket shows it (a ticket without a "
          "buyer id names its buyer by it)"),
        C("ticket_type", TEXT, "工单类型", "unified type (vocabulary ticket_type)"),
        C("platform_ticket_type", TEXT, "原始工单类型", "type label as given"),
        C("complaint_reason", TEXT, "投诉原因", "unified reason (vocabulary refund_reason)"),
        C("platform_reason", TEXT, "原始原因", "reason label as given"),
        C("order_key", TEXT, "订单键", "order concerned"),
        C("phone_bidx", TEXT, "手机号盲索引", "blind index of the contact mobile"),
        C("satisfaction", INT, "满意度", "buyer rating 1–5", "score"),
        _time("created_at", "创建时间", "opened"),
        _time("closed_at", "关闭时间", "closed"),
        BIZ_DATE,
        KEPT_FLAGS,
        RAW_IDS,
    ),
    key=("ticket_id",),
    populated_by="service tickets",
)

CARRIER = Table(
    "carrier",
    "物流公司",
    "logistics",
    "unified carrier list",
    (
        C("carrier_code", TEXT, "物流公司编码", "unified code, e.g. SF, ZTO", nullable=False),
        C("name", TEXT, "名称", "Chinese name"),
    ),
    key=("carrier_code",),
    populated_by="the unified carrier list (model/carriers.toml; its platform texts are in the "
    "vocabulary section below)",
)

SHIPMENT = Table(
    "shipment",
    "发货单",
    "logistics",
    "one parcel shipped for an order (of the order's latest version)",
    (
        C("shipment_key", TEXT, "发货键", "<order_key>:<tracking_no>", nullable=False),
        C("order_key", TEXT, "订单键", "joins unified.orders", nullable=False),
        PLATFORM,
        SHOP,
        C("tracking_no", TEXT, "运单号", "waybill number as given"),
        C("carrier", TEXT, "物流公司", "carrier as the platform gives it (name, code or id)"),
        C("carrier_code", TEXT, "统一物流公司编码", "joins unified.carrier; NULL when no carrier of the "
          "list claims the platform's text (the shipment is kept and flagged unknown_carrier)"),
        _time("shipped_at", "发货时间", "when the parcel was handed over: the parcel's own time, else "
              "the order's ship time"),
        BIZ_DATE,
        C("quality_flags", TEXT, "质量标记", "comma list of rules the shipment fails (kept, flagged)"),
        C("version_raw_record_id", TEXT, "订单版本记录", "raw record of the order version", nullable=False),
        RAW_IDS,
    ),
    key=("shipment_key",),
    populated_by="the waybills in the platform order payloads, parsed with the order (a [shipment] "
    "rule in each mapping); a version's shipments replace the previous version's",
)

TRACKING_EVENT = Table(
    "tracking_event",
    "物流轨迹",
    "logistics",
    "one event of a parcel's journey as its carrier reported it; joins unified.shipment on "
    "tracking_no (a feed may report a parcel before or after the order names it)",
    (
        C("event_key", TEXT, "轨迹键", "<tracking_no>:<event_at>:<event>:<first 8 hex of md5(description)>"
          " (not the carrier: a push that corrects it reports the same events)", nullable=False),
        C("tracking_no", TEXT, "运单号", "joins unified.shipment.tracking_no"),
        C("carrier", TEXT, "物流公司", "carrier as the feed gives it"),
        C("carrier_code", TEXT, "统一物流公司编码", "joins unified.carrier; NULL (flagged "
          "unknown_carrier) when no carrier of the list claims the feed's code"),
        _time("event_at", "时间", "when it happened"),
        C("event", TEXT, "事件", "unified event (vocabulary tracking_event)"),
        C("platform_event", TEXT, "原始事件", "the feed's status as given"),
        C("description", TEXT, "描述", "the carrier's text (personal data in it is tokenized at landing)"),
        C("location", TEXT, "地点", "area the event happened in"),
        BIZ_DATE,
        _time("pulled_at", "拉取时间", "when the push that reported it arrived: a later push's carrier"
              " replaces an earlier one's"),
        C("quality_flags", TEXT, "质量标记", "comma list of rules the event fails (kept, flagged)"),
        RAW_IDS,
    ),
    key=("event_key",),
    populated_by="parcel tracking pushes (source logistics, entity traces: kuaidi100 subscription "
    "pushes, mapping kuaidi100.toml); each push repeats the parcel's history, which merges by key",
)

INVENTORY_SNAPSHOT = Table(
    "inventory_snapshot",
    "库存快照",
    "inventory",
    "stock on hand per SKU and warehouse at a date",
    (
        C("snapshot_key", TEXT, "快照键", "<warehouse>:<sku_code>:<snapshot_date>", nullable=False),
        C("sku_code", TEXT, "SKU编码", "merchant sku", nullable=False),
        C("warehouse", TEXT, "仓库", "warehouse code"),
        C("warehouse_name", TEXT, "仓库名称", "warehouse name"),
        C("barcode", TEXT, "条码", "barcode"),
        C("sku_name", TEXT, "商品名称", "SKU name in the ERP"),
        C("snapshot_date", DATE, "快照日期", "date (Asia/Shanghai)"),
        C("on_hand", INT, "在库数量", "units in the warehouse", "pcs"),
        C("reserved", INT, "占用数量", "units reserved for orders", "pcs"),
        C("available", INT, "可用数量", "units that can be sold", "pcs"),
        C("in_transit", INT, "在途数量", "units on their way in", "pcs"),
        _money("unit_cost", "单位成本", "unit cost"),
        _time("pulled_at", "拉取时间", "when the snapshot was pulled from its source: a snapshot re-sent"
              " later replaces the row"),
        KEPT_FLAGS,
        RAW_IDS,
    ),
    key=("snapshot_key",),
    populated_by="erp inventory snapshots (a re-sent snapshot replaces the row)",
)

BEHAVIOUR_EVENT = Table(
    "behaviour_event",
    "行为事件",
    "behaviour",
    "app / mini-program behaviour event",
    (
        C("event_id", TEXT, "事件ID", "event id", nullable=False),
        PLATFORM,
        C("account_key", TEXT, "账号键", "actor when logged in, app:<user_id>"),
        C("device_id", TEXT, "设备ID", "device"),
        C("openid", TEXT, "微信OpenID", "WeChat openid of the logged-in mini-program user"),
        C("event_type", TEXT, "事件类型", "unified type (vocabulary behaviour_event_type)"),
        C("listing_key", TEXT, "商品键", "platform listing concerned (null: the app names merchant SKUs)"),
        C("sku_code", TEXT, "SKU编码", "merchant SKU code concerned"),
        C("search_query", TEXT, "搜索词", "search text of a search event"),
        C("page", TEXT, "页面", "page path"),
        C("ip", TEXT, "IP地址", "client IP address"),
        C("ip_province", TEXT, "IP归属省", "province of the client IP, completed from the ip2region database"
          " named by completion.ip_database (null: unknown, or IP completion off)"),
        C("ip_city", TEXT, "IP归属市", "city of the client IP (same source)"),
        _time("event_at", "时间", "event time"),
        BIZ_DATE,
        C("quality_flags", TEXT, "质量标记", "rules the event fails but is kept for: mixed_timezone, "
          "bad_ip (its ip is no IP address; checked with IP completion off too)"),
        RAW_IDS,
    ),
    key=("event_id",),
    populated_by="app events",
)

AD_TOUCH = Table(
    "ad_touch",
    "广告触点",
    "advertising",
    "ad impression or click",
    (
        C("touch_key", TEXT, "触点键", "<touch_type>:<touch_id>: an impression and a click may share an id",
          nullable=False),
        C("touch_id", TEXT, "触点ID", "impression/click id", nullable=False),
        C("touch_type", TEXT, "类型", "impression, click"),
        C("impression_id", TEXT, "曝光ID", "the impression a click followed"),
        C("channel", TEXT, "渠道", "ad channel"),
        C("campaign_id", TEXT, "广告计划", "ad campaign as the ad platform names it"),
        C("creative_id", TEXT, "创意ID", "creative"),
        C("device_id", TEXT, "设备ID", "device (IDFA / OAID)"),
        C("os", TEXT, "操作系统", "ios, android"),
        _time("touched_at", "时间", "event time"),
        BIZ_DATE,
        _money("cost", "花费", "cost"),
        KEPT_FLAGS,
        RAW_IDS,
    ),
    key=("touch_key",),
    populated_by="ad impression and click logs",
)

QUARANTINE = Table(
    "quarantine",
    "隔离记录",
    "governance",
    "raw records a standardization rule rejected, with the rule and reason",
    (
        C("raw_record_id", TEXT, "原始记录", "rejected record", nullable=False),
        SOURCE,
        PLATFORM,
        C("entity", TEXT, "实体", "raw entity"),
        C("rule", TEXT, "规则", "rule id, e.g. unknown_status, missing_required"),
        C("reason", TEXT, "原因", "what was wrong, naming the field and value"),
        C("mapping", TEXT, "映射文件", "mapping file and version"),
        C("raw_file", TEXT, "原始文件", "lake file"),
        C("run_id", TEXT, "运行批次", "run"),
    ),
    key=("raw_record_id",),
    schema="unified",
    populated_by="every mapping",
)

QUALITY_FLAG = Table(
    "quality_flag",
    "质量标记",
    "governance",
    "an outlier a rule flagged on a kept row (L3 b)",
    (
        C("table_name", TEXT, "表", "unified table"),
        C("row_key", TEXT, "行键", "key of the flagged row"),
        C("rule", TEXT, "规则", "rule id"),
        C("reason", TEXT, "原因", "value and bound"),
        C("raw_record_id", TEXT, "原始记录", "record"),
    ),
    key=("table_name", "row_key", "rule"),
    populated_by="outlier and format rules on kept orders, order lines, parcels, refunds and keyed rows;"
    " the refund settlement on orders (refund_exceeds_payment, partial_refund)",
)

PROCESSED_FILE = Table(
    "processed_file",
    "已处理文件",
    "governance",
    "raw files already standardized into this snapshot",
    (
        C("path", TEXT, "路径", "lake-relative path", nullable=False),
        SOURCE,
        C("entity", TEXT, "实体", "entity"),
        C("rows", INT, "行数", "records in the file"),
        C("run_id", TEXT, "运行批次", "run"),
        _time("processed_at", "处理时间", "when"),
        C("model_revision", INT, "模型修订", "the unified model's revision (ecfusion.model.revisions) the "
          "file was standardized at; NULL: before revisions were recorded"),
    ),
    key=("path",),
    schema="meta",
    populated_by="every run",
)

RUN_LOG = Table(
    "run_reconciliation",
    "运行对账",
    "governance",
    "per run, source and entity: in = unified + quarantined + duplicates",
    (
        RUN_ID,
        SOURCE,
        C("entity", TEXT, "实体", "entity"),
        C("raw_in", INT, "输入", "raw records read"),
        C("unified", INT, "入模", "accepted"),
        C("quarantined", INT, "隔离", "rejected by a rule"),
        C("duplicates", INT, "重复", "already seen"),
        _time("finished_at", "完成时间", "when"),
    ),
    key=("run_id", "source", "entity"),
    schema="meta",
    populated_by="every run",
)

RUN_MAPPING = Table(
    "run_mapping",
    "运行映射",
    "governance",
    "per run and platform: the mapping file that standardized the platform's records in that run; "
    "what `ecfusion warehouse status` compares with the mappings in effect now",
    (
        RUN_ID,
        C("platform", TEXT, "平台", "platform the mapping is for", nullable=False),
        C("mapping", TEXT, "映射", "the mapping's file name and version, e.g. taobao.toml v1.1.0"),
        C("digest", TEXT, "映射摘要", "SHA-256 of the mapping as JSON, 16 hex digits: one per set of rules"),
        C("rules", TEXT, "映射规则", "the whole mapping as JSON, as it was loaded (comments are not kept); "
          "on the first row of its digest only, NULL on the others"),
        C("records", INT, "记录数", "raw records of the platform the run read"),
        _time("recorded_at", "记录时间", "when"),
    ),
    key=("run_id", "platform"),
    schema="meta",
    populated_by="every run",
)

TABLES: tuple[Table, ...] = (
    MEMBER_ACCOUNT,
    MEMBER,
    MEMBER_LEVEL,
    POINTS_ENTRY,
    CATEGORY,
    SPU,
    SKU,
    LISTING,
    LISTING_FEED,
    ORDERS,
    ORDER_LINE,
    ORDER_VERSION,
    ORDER_STATUS_HISTORY,
    PAYMENT,
    CAMPAIGN,
    COUPON,
    DISCOUNT_ALLOCATION,
    REFUND,
    SERVICE_TICKET,
    CARRIER,
    SHIPMENT,
    TRACKING_EVENT,
    INVENTORY_SNAPSHOT,
    BEHAVIOUR_EVENT,
    AD_TOUCH,
    QUARANTINE,
    QUALITY_FLAG,
    PROCESSED_FILE,
    RUN_LOG,
    RUN_MAPPING,
)

DOMAIN_TITLES: dict[str, str] = {
    "member": "会员与用户 Members and accounts (6.1.2 a)",
    "product": "商品与品类 Products and categories (6.1.2 b)",
    "trade": "交易与订单 Trade and orders (6.1.2 c)",
    "marketing": "营销与活动 Marketing (6.1.2 d)",
    "after_sales": "客服与售后 Service and after-sales (6.1.2 e)",
    "logistics": "物流 Logistics",
    "inventory": "库存 Inventory",
    "behaviour": "行为 Behaviour",
    "advertising": "广告 Advertising",
    "governance": "治理 Governance and bookkeeping",
}


def table(name: str) -> Table:
    """The table spec named ``name`` (unqualified)."""
    for t in TABLES:
        if t.name == name:
            return t
    raise KeyError(name)
