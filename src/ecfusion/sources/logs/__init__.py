"""Log collection (采集层, T/JNBDA 0003-2025 4.3.4, 5.1): tail JSONL and nginx access logs.

Byte offsets and the file's inode are the checkpoint; rotation by rename-and-create and by
copytruncate is followed; lines that cannot be parsed are quarantined with a reason.
"""

from ecfusion.sources.logs.parsers import LineParseError, parse_jsonl_line, parse_nginx_combined
from ecfusion.sources.logs.tail import LogConnector, LogCursor, LogSourceConfig

__all__ = [
    "LineParseError",
    "LogConnector",
    "LogCursor",
    "LogSourceConfig",
    "parse_jsonl_line",
    "parse_nginx_combined",
]
