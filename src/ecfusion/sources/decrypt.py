"""The optional decrypt step for receivers the platforms deliver sealed (5.1; 7.4 purpose; 7.6 audit).

Platforms hand out receiver names, phones and addresses masked or encrypted; each offers a decrypt
API under a quota (Taobao ``taobao.top.oaid.decrypt``, JD ``jingdong.jos.order.oaid.decrypt`` ⚠,
Pinduoduo ``pdd.open.decrypt.batch``, Douyin ``order.batchDecrypt`` ⚠). A source opts in with
``decrypt = true`` and a ``decrypt_purpose``. For each batch of orders ``DecryptStep``:

* asks the connector which records still hold ciphertext (``needs_decrypt``);
* keeps within the shop's daily budget (``decrypt_daily_quota`` records per Beijing day, counted
  from the audit trail so a restart does not reset it) and stops for the day when the platform
  answers that its quota is spent;
* calls the connector's ``decrypt_receivers`` (rate-limited by ``decrypt_rate``);
* writes one audit event: who (``SourceContext.actor``), when (the audit row's time), which records
  (their keys — never a personal value), why (the purpose), the API and the outcome.

Records the step could not decrypt for want of quota are landed exactly as delivered: nothing is
held back. Any other decrypt failure (after the transport's retries) fails the batch like any
failed call — audited as ``failed`` — and the re-run repeats it. The plaintext exists only in the
batch in memory; the raw zone encrypts it at landing like every
declared personal field (``security/pii_fields.toml``), and nothing here logs a value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from ecfusion.errors import SourceError
from ecfusion.sources.context import SourceContext

BEIJING = timezone(timedelta(hours=8))
AUDIT_ACTION = "sources.decrypt"
# Platforms word a spent decrypt quota differently (⚠ none of the codes is documented in
# shared/platforms.md); each connector turns such an answer into ``DecryptQuotaExhausted``.
_QUOTA_WORDS = ("quota", "额度")


class DecryptQuotaExhausted(SourceError):
    """The platform says the shop's decrypt quota is spent (for today)."""


def quota_error(text: str) -> DecryptQuotaExhausted | None:
    """``DecryptQuotaExhausted`` if a platform error ``text`` is about the decrypt quota."""
    low = text.lower()
    if "decrypt" in low and any(w in low for w in _QUOTA_WORDS):
        return DecryptQuotaExhausted(
            text, hint="records are landed as delivered; decrypt resumes when the platform's quota resets"
        )
    return None


def beijing_day(now: datetime | None = None) -> str:
    """The platforms' quota day (they reset at midnight China time)."""
    return (now or datetime.now(UTC)).astimezone(BEIJING).date().isoformat()


@dataclass
class DecryptStep:
    """Decrypt what a batch needs, within quota, audited (see module docstring)."""

    source: str
    platform: str
    api: str
    purpose: str
    daily_quota: int | None
    context: SourceContext
    needs_decrypt: Callable[[dict[str, Any]], bool]
    decrypt: Callable[[list[dict[str, Any]]], object]
    record_key: Callable[[dict[str, Any]], str]
    _spent: dict[str, int] = field(default_factory=dict)  # day -> records decrypted, from the trail
    _exhausted_day: str | None = None

    def __call__(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        wanted = [r for r in records if self.needs_decrypt(r)]
        if not wanted:
            return records
        day = beijing_day()
        if self._exhausted_day == day:
            return records  # already audited once today as exhausted
        left = self._left(day)
        chosen = wanted if left is None else wanted[:left]
        if not chosen:
            self._exhaust(day, "daily_quota_reached", wanted, "decrypt_daily_quota")
            return records
        try:
            self.decrypt(chosen)
        except DecryptQuotaExhausted as e:
            self._audit(day, "quota_exhausted", chosen, error=e.message)
            self._exhausted_day = day
            return records
        except SourceError as e:
            self._audit(day, "failed", chosen, error=e.message)
            raise
        outcome = "ok" if len(chosen) == len(wanted) else "partial_quota"
        self._audit(day, outcome, chosen)
        if outcome == "partial_quota":
            self._exhaust(day, "daily_quota_reached", wanted[len(chosen) :], "decrypt_daily_quota")
        return records

    def _left(self, day: str) -> int | None:
        if self.daily_quota is None:
            return None
        if day not in self._spent:
            self._spent = {day: self.context.decrypt_usage(self.source, day)}
        return max(0, self.daily_quota - self._spent[day])

    def _exhaust(self, day: str, outcome: str, skipped: list[dict[str, Any]], limit: str) -> None:
        self._exhausted_day = day
        self._audit(day, outcome, skipped, decrypted=False, error=f"{limit} = {self.daily_quota}")

    def _audit(
        self,
        day: str,
        outcome: str,
        records: list[dict[str, Any]],
        *,
        decrypted: bool | None = None,
        error: str | None = None,
    ) -> None:
        done = [r for r in records if not self.needs_decrypt(r)] if decrypted is not False else []
        self._spent[day] = self._spent.get(day, 0) + len(done)
        detail: dict[str, Any] = {
            "source": self.source,
            "platform": self.platform,
            "api": self.api,
            "actor": self.context.actor,
            "purpose": self.purpose,
            "day": day,
            "outcome": outcome,
            "records": len(done),  # records now holding plaintext: what the quota counts
            "requested": len(records),
            "record_keys": [self.record_key(r) for r in records],
        }
        if error:
            detail["error"] = error
        self.context.audit(AUDIT_ACTION, detail)
