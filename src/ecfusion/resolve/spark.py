"""A local Spark session for resolution at scale (ARCHITECTURE principle 1; 6.1.3 on Spark).

Splink on Spark needs its similarity UDF jar on ``spark.jars`` and a checkpoint directory
(TOOLCHAIN.md); the engine layer's one session builder sets both. Clusters pass their own
session to ``resolve.run``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ecfusion.engine.spark import local_session as _engine_session


def local_session(checkpoint_dir: Path, *, cores: int = 2, log: Path | None = None) -> Any:
    """A local-mode SparkSession ready for Splink (the JVM's own output to ``log``)."""
    return _engine_session(cores, checkpoint_dir=checkpoint_dir, log=log)
