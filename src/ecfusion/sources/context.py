"""What a connector may use from its workspace: the token store and the audit trail (5.1, 7.6).

Connectors take ``context=None`` in tests (tokens in memory, audit events dropped); the CLI builds
a context backed by the control plane.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ecfusion.sources.oauth import MemoryTokenStore, TokenStore

AuditHook = Callable[[str, dict[str, Any]], None]


def _drop(_action: str, _detail: dict[str, Any]) -> None:
    return None


@dataclass
class SourceContext:
    tokens: TokenStore = field(default_factory=MemoryTokenStore)
    audit: AuditHook = _drop
