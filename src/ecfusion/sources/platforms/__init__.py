"""Platform open-API connectors (5.1): Taobao/Tmall, JD, Pinduoduo, Douyin shop.

Importing this package registers their kinds with ``ecfusion.sources.contract``.
"""

from ecfusion.sources.platforms import douyin, jd, pdd, taobao  # noqa: F401
