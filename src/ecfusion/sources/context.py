"""What a connector may use from its workspace: tokens, the audit trail, who runs it (5.1, 7.6).

``refresh_journal`` records token refreshes begun and done, so a process killed inside a rotation
is recovered by the next one (``ecfusion.sources.oauth``).

Connectors take ``context=None`` in tests (tokens in memory, audit events dropped); the CLI builds
a context backed by the control plane. ``decrypt_usage(source, day)`` says how many records the
audit trail shows as decrypted for a source on a Beijing day (the platforms' quota day), so a
restarted process keeps within the same daily decrypt budget.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ecfusion.sources.oauth import MemoryRefreshJournal, MemoryTokenStore, RefreshJournal, TokenStore

AuditHook = Callable[[str, dict[str, Any]], None]
DecryptUsage = Callable[[str, str], int]


def _drop(_action: str, _detail: dict[str, Any]) -> None:
    return None


def _none_used(_source: str, _day: str) -> int:
    return 0


def current_actor() -> str:
    """Who is running the collector, for the audit trail: ``ECFUSION_ACTOR``, else the OS user."""
    try:
        return os.environ.get("ECFUSION_ACTOR") or getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return f"uid:{os.getuid()}"


@dataclass
class SourceContext:
    tokens: TokenStore = field(default_factory=MemoryTokenStore)
    audit: AuditHook = _drop
    actor: str = field(default_factory=current_actor)
    decrypt_usage: DecryptUsage = _none_used
    refresh_journal: RefreshJournal = field(default_factory=MemoryRefreshJournal)
