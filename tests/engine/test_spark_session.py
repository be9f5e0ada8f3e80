"""Starting Spark as a user meets it: the JVM's own output (Spark's log lines, Java's warnings, the
console progress bars) goes to the workspace's Spark log, not into ecfusion's progress and summary;
a JVM that cannot start is one line naming the log, never a traceback (engine/spark.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "warehouse"))
from rawzone import RawZone, taobao_trade  # noqa: E402

from ecfusion.config import Workspace  # noqa: E402

# A shuffle and a join over many partitions: jobs of several stages, the kind that draw Spark's
# console progress bars when they are on.
STAGES = """
import sys
from pathlib import Path
from ecfusion.engine.spark import SparkEngine
engine = SparkEngine.local(log=Path(sys.argv[1]))
engine.spark.range(3000000).createOrReplaceTempView("ids")
engine.view("n", "SELECT id % 97 AS k, id FROM ids")
rows = engine.scalar_rows(
    "SELECT count(*) FROM (SELECT k, sum(id) AS s FROM n GROUP BY k) AS a JOIN n USING (k)"
)
print("rows", rows[0][0])
"""


def test_the_jvm_writes_to_the_log_and_the_terminal_gets_only_ecfusion_output(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "spark.log"
    proc = subprocess.run(
        [sys.executable, "-c", STAGES, str(log)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "rows 3000000\n"
    assert proc.stderr == ""
    said = log.read_text()
    assert "log4j" in said and "WARN" in said  # Spark's start-up lines are kept, in the log
    assert "[Stage " not in said  # no progress bars, in the log or anywhere


def test_a_jvm_that_cannot_start_is_one_line_naming_the_log(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    RawZone(ws.lake_root).add(
        "taobao", "orders", [taobao_trade(1, "WAIT_SELLER_SEND_GOODS", "2026-11-01 10:05:00")]
    )
    env = {**os.environ, "JAVA_HOME": str(tmp_path / "no-java-here")}
    proc = subprocess.run(
        [sys.executable, "-m", "ecfusion", "run", "-w", str(ws.root), "--engine", "spark"],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error[ECF500]: Spark could not start")
    assert f"what the JVM said is in {ws.spark_log}" in lines[0] and "no-java-here/bin/java" in lines[0]
    assert "no-java-here/bin/java: No such file or directory" in ws.spark_log.read_text()
