"""Resolution quality against ground truth (6.1.3; 5.3.2 quality of the fused asset).

Pairwise precision / recall / F1 and B-cubed precision / recall / F1 for members (one_id vs
``truth/accounts.csv`` person_id) and products (std_sku_id vs ``truth/listings.csv``
std_sku_code), the number of same-name-different-person merges when names are available, and
the worst false merges (predicted clusters holding the most distinct true entities). Counting is
set-based SQL (sums of n·(n−1)/2 over cluster intersections), so a million records is cheap.
Only evaluation reads truth; the pipeline never does.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from ecfusion.config import Workspace
from ecfusion.errors import InputError
from ecfusion.resolve import store


@dataclass
class Scores:
    records: int
    predicted_clusters: int
    true_clusters: int
    pairwise_precision: float
    pairwise_recall: float
    pairwise_f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    worst_false_merges: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _f1(p: float, r: float) -> float:
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


SCORES_SQL = """
with j as (select pred, truth from labelled),
pc as (select pred, count(*) n from j group by pred),
tc as (select truth, count(*) n from j group by truth),
ij as (select pred, truth, count(*) n from j group by pred, truth),
b as (select sum(ij.n * ij.n / pc.n) bp, sum(ij.n * ij.n / tc.n) br
      from ij join pc using (pred) join tc using (truth))
select (select count(*) from j),
       (select count(*) from pc), (select count(*) from tc),
       (select sum(n * (n - 1) / 2) from ij), (select sum(n * (n - 1) / 2) from pc),
       (select sum(n * (n - 1) / 2) from tc), b.bp, b.br
from b
"""

WORST_SQL = """
select pred, count(*) as records, count(distinct truth) as true_entities,
       list(distinct truth order by truth)[1:5] as examples
from labelled group by pred having count(distinct truth) > 1
order by true_entities desc, records desc limit {limit}
"""


def score(labelled: pa.Table, *, worst: int = 10) -> Scores:
    """Scores for an Arrow table with columns ``pred`` and ``truth`` (one row per record)."""
    con = duckdb.connect(":memory:")
    con.register("labelled", labelled)
    row = con.execute(SCORES_SQL).fetchall()[0]
    n, npred, ntrue, tp, pred_pairs, true_pairs, bp, br = (float(x or 0) for x in row)
    precision = tp / pred_pairs if pred_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    b_p, b_r = (bp / n if n else 1.0), (br / n if n else 1.0)
    worst_rows = con.execute(WORST_SQL.format(limit=int(worst))).fetchall()
    con.close()
    return Scores(
        int(n),
        int(npred),
        int(ntrue),
        round(precision, 5),
        round(recall, 5),
        round(_f1(precision, recall), 5),
        round(b_p, 5),
        round(b_r, 5),
        round(_f1(b_p, b_r), 5),
        [{"cluster": p, "records": r, "true_entities": t, "examples": list(e)} for p, r, t, e in worst_rows],
    )


def _truth_file(folder: Path, name: str) -> Path:
    path = folder / name
    if not path.is_file():
        raise InputError(
            f"truth file {path} not found",
            hint="pass the simulated merchant's truth folder (DIR/truth) to --truth",
        )
    return path


def evaluate(workspace: Workspace, truth_dir: Path | str, *, worst: int = 10) -> dict[str, Scores]:
    """Scores for members and products of the last run against the truth folder."""
    folder = Path(truth_dir)
    if (folder / "truth").is_dir():
        folder = folder / "truth"
    accounts = _truth_file(folder, "accounts.csv")
    out: dict[str, Scores] = {}
    with store.connect(workspace, read_only=True) as con:
        if not store.has_table(con, "fused", "member"):
            raise InputError("fused.member does not exist", hint="run `ecfusion er run` first")
        labelled = con.sql(f"""
            select m.one_id as pred, t.person_id as truth
            from fused.member m join read_csv('{accounts}', header = true, all_varchar = true) t
              on m.account_key = t.platform || ':' || t.account_id""").to_arrow_table()
        out["members"] = score(labelled, worst=worst)
        listings = folder / "listings.csv"
        if listings.is_file() and store.has_table(con, "fused", "listing"):
            labelled = con.sql(f"""
                select l.std_sku_id as pred, t.std_sku_code as truth
                from fused.listing l join read_csv('{listings}', header = true, all_varchar = true) t
                  on l.listing_key = t.platform || ':' || t.item_id || ':' || t.sku_id""").to_arrow_table()
            out["products"] = score(labelled, worst=worst)
    return out
