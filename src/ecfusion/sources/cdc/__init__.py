"""Database change data capture (采集层 5.1.4: CDC instead of full scans) for ERP/CRM databases.

MariaDB/MySQL from the row-based binlog, PostgreSQL by logical replication (``pgoutput``). Both
start with a resumable, primary-key-chunked snapshot and then stream change envelopes
``{op, before, after, source}`` with whole transactions per batch (``envelope``).
"""

from ecfusion.sources.cdc.envelope import change, json_safe
from ecfusion.sources.cdc.mysql import MySqlCdcConfig, MySqlCdcConnector
from ecfusion.sources.cdc.postgres import PostgresCdcConfig, PostgresCdcConnector
from ecfusion.sources.cdc.runner import run_cdc

__all__ = [
    "MySqlCdcConfig",
    "MySqlCdcConnector",
    "PostgresCdcConfig",
    "PostgresCdcConnector",
    "change",
    "json_safe",
    "run_cdc",
]
