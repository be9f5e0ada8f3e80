"""A local Spark session for resolution at scale (ARCHITECTURE principle 1; 6.1.3 on Spark).

Splink on Spark needs its similarity UDF jar on ``spark.jars`` and a checkpoint directory
(TOOLCHAIN.md); this module sets both. Clusters pass their own session to ``resolve.run``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def local_session(checkpoint_dir: Path, *, cores: int = 2) -> Any:
    """A local-mode SparkSession ready for Splink."""
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    spark = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("ecfusion-resolve")
        .config("spark.jars", similarity_jar_location())
        .config("spark.sql.shuffle.partitions", str(max(4, cores * 2)))
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    spark.sparkContext.setCheckpointDir(str(checkpoint_dir))
    return spark
