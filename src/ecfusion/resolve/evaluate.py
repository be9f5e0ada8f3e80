"""Resolution quality against ground truth (6.1.3; 5.3.2 quality of the fused asset).

Pairwise precision / recall / F1 and B-cubed precision / recall / F1 for members (one_id vs
``truth/accounts.csv`` person_id) and products (std_sku_id vs ``truth/listings.csv``
std_sku_code), the number of same-name-different-person merges when names are available, and
the worst false merges (predicted clusters holding the most distinct true entities) and the worst
missed pairs (true entities split over the most predicted clusters, one pair across the split with
the evidence the pipeline had: which blind indexes and parsed fields agree). Counting is
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
from ecfusion.interrupt import stoppable
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
    worst_missed_pairs: list[dict[str, Any]] = field(default_factory=list)
    unmatched_truth: int = 0  # truth rows with no record in the fused table (not scored)
    # different people who share a full name (truth persons.jsonl), among the scored records: how
    # many there are, and how many pairs of them one identity holds (must be 0)
    same_name_people: int | None = None
    same_name_merged_pairs: int | None = None

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
    con = stoppable(duckdb.connect(":memory:"))
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


# A record key is matched to truth by its platform account id, or else by the account name the
# platform shows (JD's pin, kept as nickname, while the account id is the open id).
MEMBER_TRUTH_SQL = """
with t as (select platform, account_id, person_id
           from read_csv('{path}', header = true, all_varchar = true)),
by_key as (select m.account_key, t.person_id from fused.member m
           join t on m.account_key = t.platform || ':' || t.account_id),
by_name as (select m.account_key, any_value(t.person_id) as person_id from fused.member m
            join t on m.platform = t.platform and m.nickname = t.account_id
            where m.account_key not in (select account_key from by_key)
            group by m.account_key having count(distinct t.person_id) = 1)
select account_key, person_id from by_key union all select account_key, person_id from by_name
"""

# For each true person split over several identities: the two largest pieces, one account of each,
# and what agreed between them (blind indexes and parsed fields only; no plaintext is read).
MISSED_SQL = """
with l as (select m.*, t.person_id as truth from fused.member m join member_truth t using (account_key)),
split as (select truth, count(distinct one_id) as pieces, count(*) as records from l
          group by truth having count(distinct one_id) > 1
          order by pieces desc, records desc, truth limit {limit}),
rep as (select truth, one_id, min(account_key) as account_key,
               row_number() over (partition by truth order by count(*) desc, min(account_key)) as rn
        from l where truth in (select truth from split) group by truth, one_id)
select s.truth, s.pieces, s.records, a.account_key, b.account_key,
       {{'name': split_part(x.name_token, ':', 4) = split_part(y.name_token, ':', 4),
         'phone': x.phone_bidx = y.phone_bidx,
         'phone_visible': case when x.phone_masked not like 'ef1:%' and y.phone_masked not like 'ef1:%'
                          then substr(x.phone_masked, 1, 3) || substr(x.phone_masked, -4)
                             = substr(y.phone_masked, 1, 3) || substr(y.phone_masked, -4) end,
         'email': x.email_bidx = y.email_bidx, 'id_number': x.id_number_bidx = y.id_number_bidx,
         'address': x.address_bidx = y.address_bidx,
         'city': place(x.city) = place(y.city), 'district': place(x.district) = place(y.district),
         'device': case when len(x.device_ids) > 0 and len(y.device_ids) > 0
                        then len(list_intersect(x.device_ids, y.device_ids)) > 0 end,
         'nickname': x.nickname = y.nickname}} as agree
from split s join rep a on a.truth = s.truth and a.rn = 1 join rep b on b.truth = s.truth and b.rn = 2
join l x on x.account_key = a.account_key join l y on y.account_key = b.account_key
order by s.pieces desc, s.records desc, s.truth
"""


# A division as platforms send it: plain text or a {"name": …} object; 杭州市 = 杭州; '' = unknown.
PLACE_MACRO = """
create or replace temp macro place(v) as nullif(regexp_replace(
    case when v like '{%' and json_valid(v) then json_extract_string(v, '$.name') else v end, '市$', ''), '')
"""


def _missed_pairs(con: duckdb.DuckDBPyConnection, limit: int) -> list[dict[str, Any]]:
    """One pair per split true entity; ``agree``/``disagree`` leave out what either side lacks."""
    con.execute(PLACE_MACRO)
    rows = con.execute(MISSED_SQL.format(limit=int(limit))).fetchall()
    return [
        {
            "truth": t,
            "identities": n,
            "records": r,
            "left": a,
            "right": b,
            "agree": sorted(k for k, v in ev.items() if v),
            "disagree": sorted(k for k, v in ev.items() if v is False),
        }
        for t, n, r, a, b, ev in rows
    ]


# Pairs of different people with the same full name whom one identity holds, and how many people
# share their name with someone else at all (so a zero means something).
SAME_NAME_SQL = """
with n as (select person_id, name from read_json('{path}', format = 'newline_delimited',
                                                 columns = {{person_id: 'VARCHAR', name: 'VARCHAR'}})),
l as (select distinct m.one_id, t.person_id, n.name from fused.member m
      join member_truth t using (account_key) join n using (person_id)),
people as (select distinct person_id, name from l),
shared as (select name from people group by name having count(*) > 1)
select (select count(*) from people where name in (select name from shared)),
       (select count(*) from l a join l b on a.one_id = b.one_id and a.name = b.name
                                        and a.person_id < b.person_id)
"""


def _same_name(con: duckdb.DuckDBPyConnection, persons: Path) -> tuple[int, int]:
    people, merged = con.execute(SAME_NAME_SQL.format(path=persons)).fetchall()[0]
    return int(people or 0), int(merged or 0)


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
        con.execute(f"create temp table member_truth as {MEMBER_TRUTH_SQL.format(path=accounts)}")
        labelled = con.sql(
            "select m.one_id as pred, t.person_id as truth from fused.member m join member_truth t "
            "using (account_key)"
        ).to_arrow_table()
        out["members"] = score(labelled, worst=worst)
        out["members"].worst_missed_pairs = _missed_pairs(con, worst)
        out["members"].unmatched_truth = int(
            con.sql(
                f"select count(*) - (select count(*) from member_truth) "
                f"from read_csv('{accounts}', header = true, all_varchar = true)"
            ).fetchall()[0][0]
        )
        persons = folder / "persons.jsonl"
        if persons.is_file():
            people, merged = _same_name(con, persons)
            out["members"].same_name_people, out["members"].same_name_merged_pairs = people, merged
        listings = folder / "listings.csv"
        if listings.is_file() and store.has_table(con, "fused", "listing"):
            labelled = con.sql(f"""
                select l.std_sku_id as pred, t.std_sku_code as truth
                from fused.listing l join read_csv('{listings}', header = true, all_varchar = true) t
                  on l.listing_key = t.platform || ':' || t.item_id || ':' || t.sku_id""").to_arrow_table()
            out["products"] = score(labelled, worst=worst)
    return out
