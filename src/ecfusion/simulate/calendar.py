"""When the simulated merchant sells: seasonality, weekdays, hours and the promotion calendar.

Serves issue 2 (Build §3, "Time"): order volume follows the Chinese e-commerce year — 年货节 in
January, 38 女王节 (strong for cosmetics), 618 and 双11 with their midnight peaks, 双12 — so that
incremental pulls, partitions and forecasting (T/JNBDA 0003-2025 clause 4.3.8) meet real spikes.
All business times are Beijing time; this module counts "Beijing seconds" (seconds since
1970-01-01 00:00 Beijing wall clock), and platforms that speak unix time subtract eight hours.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

BEIJING_OFFSET_S = 8 * 3600
# Online orders per customer per year for a mid-size cosmetics brand (repeat buyers skew it).
ORDERS_PER_PERSON_YEAR = 4.0

# Hour-of-day shape of online orders (evening peak; little at 4 a.m.).
HOUR_WEIGHTS = np.array(
    [
        3.0,
        2.0,
        1.2,
        0.6,
        0.4,
        0.4,
        0.7,
        1.5,
        2.6,
        3.6,
        4.2,
        4.4,
        4.6,
        4.4,
        4.2,
        4.2,
        4.3,
        4.4,
        4.6,
        5.0,
        6.0,
        7.0,
        7.2,
        5.0,
    ]
)


@dataclass(frozen=True, slots=True)
class Promotion:
    campaign_id: str
    name: str
    start: tuple[int, int]  # (month, day)
    end: tuple[int, int]
    boost: float
    peak: tuple[int, int] | None = None
    peak_boost: float = 1.0


PROMOTIONS: tuple[Promotion, ...] = (
    Promotion("CMP-NHJ", "年货节", (1, 8), (1, 22), 1.6),
    Promotion("CMP-38", "38女王节", (3, 1), (3, 8), 1.7, (3, 8), 2.5),
    Promotion("CMP-520", "520告白季", (5, 15), (5, 20), 1.3),
    Promotion("CMP-618", "618年中大促", (5, 31), (6, 18), 1.8, (6, 18), 5.0),
    Promotion("CMP-99", "99划算节", (9, 5), (9, 9), 1.3),
    Promotion("CMP-1111", "双11全球狂欢节", (10, 20), (11, 11), 2.0, (11, 11), 9.0),
    Promotion("CMP-1212", "双12年终盛典", (12, 10), (12, 12), 1.5, (12, 12), 2.5),
)


def promotion_on(day: date) -> Promotion | None:
    for p in PROMOTIONS:
        if p.start <= (day.month, day.day) <= p.end:
            return p
    return None


def day_weight(day: date) -> float:
    w = 1.15 if day.weekday() >= 5 else 1.0
    w *= 1.0 + 0.12 * np.cos((day.timetuple().tm_yday - 20) / 365.0 * 2 * np.pi)  # winter skin care
    p = promotion_on(day)
    if p is not None:
        w *= p.peak_boost if p.peak == (day.month, day.day) else p.boost
    return float(w)


def allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder; exact sum)."""
    if total <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    share = weights / weights.sum() * total
    base = np.floor(share).astype(np.int64)
    rest = int(total - base.sum())
    if rest:
        order = np.argsort(-(share - base), kind="stable")[:rest]
        base[order] += 1
    return base


def daily_counts(start: date, days: int, total: int) -> np.ndarray:
    return allocate(total, np.array([day_weight(start + timedelta(d)) for d in range(days)]))


def default_order_total(persons: int, start: date, days: int) -> int:
    """Orders a brand with ``persons`` customers gets in ``days`` days at realistic frequency."""
    mean_weight = float(np.mean([day_weight(start + timedelta(d)) for d in range(days)]))
    return max(1, round(persons * days * ORDERS_PER_PERSON_YEAR / 365.0 * mean_weight))


def beijing_seconds(day: date) -> int:
    """Beijing seconds of 00:00 Beijing time on ``day``."""
    return (day - date(1970, 1, 1)).days * 86400


class TimeText:
    """Formats Beijing seconds as ``yyyy-MM-dd HH:mm:ss`` fast (date part cached per day)."""

    _clock: list[str] = []  # " HH:MM:SS" for each second of a day, built on first use

    def __init__(self) -> None:
        self._days: dict[int, str] = {}
        if not TimeText._clock:
            TimeText._clock = [f" {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86400)]

    def __call__(self, bj: int) -> str:
        day, sec = divmod(bj, 86400)
        prefix = self._days.get(day)
        if prefix is None:
            prefix = self._days[day] = time.strftime("%Y-%m-%d", time.gmtime(day * 86400))
        return prefix + self._clock[sec]

    def iso_utc(self, bj: int) -> str:
        """The same instant as UTC ISO-8601 with Z (a mixed-time-zone defect)."""
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(bj - BEIJING_OFFSET_S))

    def iso_offset(self, bj: int) -> str:
        """The same instant as ISO-8601 with an explicit +08:00 (a mixed-time-zone defect)."""
        return self(bj).replace(" ", "T") + "+08:00"
