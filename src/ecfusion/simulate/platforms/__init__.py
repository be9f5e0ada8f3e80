"""Native shapes of the four simulated platforms (issue 2, Build §3; shared/platforms.md)."""

from __future__ import annotations

from types import ModuleType

from ecfusion.simulate.platforms import douyin, jd, pdd, taobao

SHAPES: dict[str, ModuleType] = {"taobao": taobao, "jd": jd, "pdd": pdd, "douyin": douyin}

__all__ = ["SHAPES"]
