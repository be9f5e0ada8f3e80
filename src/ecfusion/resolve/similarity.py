"""Probabilistic member matching with Splink (T/JNBDA 0003-2025 6.1.3 "similarity matching").

A Fellegi–Sunter model whose comparisons are made for Chinese data: names by simplified
characters, by pinyin (homophone typos) and by edit distance, with term-frequency adjustment so
that 王伟 counts for less than a rare name (a title such as 宋女士 says only the surname); addresses
by blind index, then parsed district plus detail (same numbers, similar text); the visible digits of
masked phones; nicknames; devices (emails and ID numbers are exact keys, left to the rules).
Every level has an m prior; EM refines m on blocked pairs where it can, and a floor keeps
"disagrees" from becoming proof (EM on phone blocks rarely sees a different district); u comes
from random sampling. Steps that cannot train on a tiny or one-sided merchant are skipped and the
priors stand. Works on DuckDB (default) and Spark through Splink's database APIs; the feature
table is in memory only.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import splink.comparison_level_library as cll
from splink import Linker, SettingsCreator, block_on
from splink.comparison_library import CustomComparison
from splink.internals.exceptions import EMTrainingException

MATCH_THRESHOLD = 0.95
REVIEW_THRESHOLD = 0.5
# Splink warns for every level EM did not observe; with m priors that is expected, not news.
for _name in ("splink", "splink.internals"):
    logging.getLogger(_name).setLevel(logging.ERROR)


def _null(sql: str, label: str) -> cll.CustomLevel:
    level = cll.CustomLevel(sql, label_for_charts=label)
    level.is_null_level = True
    return level


# m priors: what a level's m is before EM, and stays when EM never sees the level (small or
# one-platform merchants). Values are the share of true matches expected at each level.
def comparisons() -> list[CustomComparison]:
    """The comparisons of the member model, most specific level first."""
    name = CustomComparison(
        [
            # a missing name, or a title (宋女士) whose surname agrees, says nothing either way
            _null(
                "(name_simp_l is null or name_simp_r is null) and "
                "(surname_l is null or surname_r is null or surname_l = surname_r)",
                "name missing, or a title with the same surname",
            ),
            cll.ExactMatchLevel("name_simp", term_frequency_adjustments=True).configure(m_probability=0.85),
            cll.ExactMatchLevel("name_pinyin").configure(m_probability=0.06),
            cll.DamerauLevenshteinLevel("name_simp", 1).configure(m_probability=0.04),
            cll.ElseLevel().configure(m_probability=0.05),
        ],
        output_column_name="name",
    )
    phone = CustomComparison(
        [
            # nothing to compare: no whole phone on one side and no visible digits on one side
            # (Pinduoduo's 1324411**** shows no last four, so two whole phones still compare)
            _null(
                "(phone_bidx_l is null or phone_bidx_r is null) "
                "and (phone_vis_l is null or phone_vis_r is null)",
                "no phone to compare",
            ),
            cll.ExactMatchLevel("phone_bidx").configure(m_probability=0.75),
            # visible digits are evidence only when one side is masked: two different plaintext
            # phones may share them (185****6122)
            cll.CustomLevel(
                "phone_vis_l = phone_vis_r and (phone_bidx_l is null or phone_bidx_r is null)",
                label_for_charts="visible digits equal, one side masked",
            ).configure(m_probability=0.3),
            cll.ElseLevel().configure(m_probability=0.15),
        ],
        output_column_name="phone",
    )
    address = CustomComparison(
        [
            _null("city_l is null or city_r is null", "city missing"),
            cll.ExactMatchLevel("address_bidx").configure(m_probability=0.4),
            # dialect-aware parts (Spark runs the same model): same numbers, text nearly equal
            cll.And(
                cll.CustomLevel("district_l = district_r or district_l is null or district_r is null"),
                cll.ExactMatchLevel("address_numbers"),
                cll.JaroWinklerLevel("address_detail", 0.9),
            ).configure(m_probability=0.35, label_for_charts="same district, same numbers, detail similar"),
            cll.ExactMatchLevel("district").configure(m_probability=0.12),
            cll.ExactMatchLevel("city").configure(m_probability=0.05),
            cll.ElseLevel().configure(m_probability=0.08),
        ],
        output_column_name="address",
    )
    nickname = CustomComparison(
        [
            cll.NullLevel("nickname"),
            cll.ExactMatchLevel("nickname").configure(m_probability=0.2),
            cll.JaroWinklerLevel("nickname", 0.88).configure(m_probability=0.1),
            cll.ElseLevel().configure(m_probability=0.7),
        ],
        output_column_name="nickname",
    )
    device = CustomComparison(
        [
            cll.NullLevel("device_ids"),
            cll.ArrayIntersectLevel("device_ids", 1).configure(m_probability=0.5),
            cll.ElseLevel().configure(m_probability=0.5),
        ],
        output_column_name="device",
    )
    # email and ID number are exact keys handled by rules; they rarely appear on two accounts
    return [name, phone, address, nickname, device]


# Levels (Splink's comparison vector values, most specific level highest) the household guard reads.
NAME_ALIKE_GAMMAS = (1, 2)  # name: -1 missing, 0 other, 1 one edit, 2 same pinyin, 3 same characters
PHONE_DIFFERENT_GAMMA = 0  # phone: -1 nothing to compare, 0 different, 1 visible digits, 2 same
# Where the household guard leaves a pair: below the merge threshold, above the review threshold.
HOUSEHOLD_CAP = 0.9


@dataclass(frozen=True)
class HouseholdGuard:
    """Pairs the model must not merge on its own: names alike but not the same characters
    (刘伟 / 刘薇: a homophone typo, or a sibling) and two different whole phones. Fellegi–Sunter
    multiplies name and address evidence as if independent, but a household shares the address and
    often the name's sound, so such a pair is a reviewer's call (capped at ``HOUSEHOLD_CAP``).

    Splink's predictions carry each comparison's match weight but not its level, so the guard
    knows the levels by their weights in the trained model."""

    name_alike: tuple[float, ...]
    phone_different: tuple[float, ...]

    @classmethod
    def of(cls, linker: Linker) -> HouseholdGuard:
        weights: dict[str, list[float]] = {"name": [], "phone": []}
        wanted = {"name": NAME_ALIKE_GAMMAS, "phone": (PHONE_DIFFERENT_GAMMA,)}
        for comparison in linker._settings_obj.comparisons:
            name = comparison.output_column_name
            for level in comparison.comparison_levels if name in wanted else ():
                w = None if level.is_null_level else level._match_weight
                if w is not None and level.comparison_vector_value in wanted[name]:
                    weights[name].append(float(w))
        return cls(tuple(weights["name"]), tuple(weights["phone"]))

    def applies(self, name_weight: float | None, phone_weight: float | None) -> bool:
        def at(w: float | None, levels: tuple[float, ...]) -> bool:
            return w is not None and any(abs(w - x) < 1e-9 for x in levels)

        return at(name_weight, self.name_alike) and at(phone_weight, self.phone_different)


# EM learns m on blocks where some levels are rare (pairs blocked on one phone almost never differ
# in district), and would then read "different district" as near-proof of a non-match; a person
# moves, ships to an office, or types another city. A floor on the m of disagreement levels keeps
# such evidence strong but finite.
M_FLOOR = {"All other comparisons": 0.02}


PREDICTION_BLOCKS = [
    block_on("phone_bidx"),
    block_on("name_simp", "city"),
    block_on("phone_vis"),
    block_on("name_pinyin", "district"),
    block_on("address_bidx"),
    block_on("email_bidx"),
    block_on("nickname"),
]


def settings() -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=list[Any](comparisons()),
        blocking_rules_to_generate_predictions=list[Any](PREDICTION_BLOCKS),
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=False,
    )


@dataclass
class MemberModel:
    """A trained Splink linker over the in-memory feature table."""

    linker: Linker
    db_api: Any
    table: Any

    def predict(self, threshold: float) -> pa.Table:
        """Scored pairs at or above ``threshold`` with per-comparison match weights."""
        df = self.linker.inference.predict(threshold_match_probability=threshold)
        return _predictions_to_arrow(df, HouseholdGuard.of(self.linker))

    def predict_incremental(self, new: Any, existing: Any, threshold: float) -> pa.Table:
        """New accounts against existing ones and among themselves (never existing × existing)."""
        between = self.linker.inference.predict_between(new, existing, threshold_match_probability=threshold)
        within = self.linker.inference.predict_within(new, threshold_match_probability=threshold)
        guard = HouseholdGuard.of(self.linker)
        return pa.concat_tables([_predictions_to_arrow(between, guard), _predictions_to_arrow(within, guard)])

    def model_json(self) -> dict[str, Any]:
        return self.linker.misc.save_model_to_json()


def make_db_api(engine: str, spark: Any = None) -> Any:
    """The Splink database API for ``engine``: in-memory DuckDB, or Spark with its session."""
    if engine == "spark":
        from splink import SparkAPI

        return SparkAPI(spark_session=spark)
    import duckdb
    from splink import DuckDBAPI

    from ecfusion.interrupt import stoppable

    return DuckDBAPI(stoppable(duckdb.connect(":memory:")))  # what DuckDBAPI(":memory:") opens, stoppable


def register(db_api: Any, features: pa.Table, name: str, spark: Any = None) -> Any:
    if spark is not None:
        return db_api.register(spark.createDataFrame(features), dataset_display_name=name)
    return db_api.register(features, dataset_display_name=name)


# What Splink raises when a training step has too little data: no pairs in a block, a prior it
# cannot estimate, EM on a single level ("math domain error"). The step is skipped and the m
# priors / the default prior below stand in: a tiny merchant still resolves, on rules and priors.
TRAINING_ERRORS = (ValueError, ZeroDivisionError, ArithmeticError, EMTrainingException)
DEFAULT_PRIOR_MATCH = 1e-4


PRIOR_SQL = """
with g as (
  select count(*) as c from {f} where name_bidx is not null and phone_bidx is not null
  group by name_bidx, phone_bidx
  union all
  select count(*) from {f} where name_bidx is not null and id_number_bidx is not null
  group by name_bidx, id_number_bidx)
select coalesce(sum(c * (c - 1) / 2), 0) from g where c > 1"""


def prior_match_rate(con: Any, rows: int, *, table: str = "f", recall: float = 0.7) -> float:
    """The share of all account pairs that are the same person, from the pairs the deterministic
    rules (name + phone, name + ID number) find, assumed to be ``recall`` of the true ones.

    Computed here rather than by Splink's estimator, which returned 0.50 on a million accounts
    (instead of about 2e-6) and so let a shared name alone merge strangers."""
    pairs = rows * (rows - 1) / 2
    if pairs <= 0:
        return DEFAULT_PRIOR_MATCH
    found = float(con.execute(PRIOR_SQL.format(f=table)).fetchone()[0])
    if found <= 0:  # no rule fired (no phones, one platform)
        return DEFAULT_PRIOR_MATCH
    return min(found / recall / pairs, 0.5)


def train(db_api: Any, table: Any, *, prior: float = DEFAULT_PRIOR_MATCH, seed: int = 42) -> MemberModel:
    """EM-train the member model with ``prior`` as the prior match rate (``prior_match_rate``)."""
    log = logging.getLogger(__name__)
    linker = Linker(table, settings(), log_level=logging.ERROR)
    linker._settings_obj._probability_two_random_records_match = prior
    try:
        linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=seed)
    except TRAINING_ERRORS as e:
        log.info("u not estimable: %s", e)
    for rule in (block_on("phone_bidx"), block_on("phone_vis"), block_on("name_simp", "district")):
        # Splink's EM session takes the comparisons its blocking rule uses out of the linker's
        # settings and puts them back only when it succeeds: a failed session would leave the
        # model without them (it lost the phone comparison so), so a failure restores the copy.
        before = linker._settings_obj.core_model_settings.copy()
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        except TRAINING_ERRORS as e:  # a block with too few pairs to train on
            linker._settings_obj.core_model_settings = before
            log.info("EM session %s skipped: %s", rule, e)
    # EM inside a block can move the global prior (to 0.50 on a million accounts, where name and
    # district alone then merged strangers): the prior stays the one the rules measured.
    linker._settings_obj._probability_two_random_records_match = prior
    _apply_floors(linker)
    return MemberModel(linker, db_api, table)


def _apply_floors(linker: Linker) -> None:
    for comparison in linker._settings_obj.comparisons:
        for level in comparison.comparison_levels:
            floor = M_FLOOR.get(level.label_for_charts)
            if floor is None or level.is_null_level:
                continue
            m = level.m_probability
            if isinstance(m, float) and m < floor:
                level.m_probability = floor


def load(db_api: Any, tables: Sequence[Any] | Any, model: dict[str, Any]) -> MemberModel:
    """A linker from a saved model (incremental runs: no retraining)."""
    settings_dict = {k: v for k, v in model.items() if not k.startswith("_ecfusion")}
    linker = Linker(tables, settings_dict, log_level=logging.ERROR)
    return MemberModel(linker, db_api, tables)


def transfer(trained: MemberModel, db_api: Any, table: Any) -> MemberModel:
    """The trained parameters on another backend (settings rebuilt in that backend's dialect)."""
    linker = Linker(table, settings(), log_level=logging.ERROR)
    src, dst = trained.linker._settings_obj, linker._settings_obj
    dst._probability_two_random_records_match = src._probability_two_random_records_match
    for c_src, c_dst in zip(src.comparisons, dst.comparisons, strict=True):
        for l_src, l_dst in zip(c_src.comparison_levels, c_dst.comparison_levels, strict=True):
            if not l_src.is_null_level:
                l_dst.m_probability = l_src.m_probability
                l_dst.u_probability = l_src.u_probability
    return MemberModel(linker, db_api, table)


PREDICTION_SCHEMA = pa.schema(
    [
        ("left_key", pa.string()),
        ("right_key", pa.string()),
        ("match_probability", pa.float64()),
        ("match_weight", pa.float64()),
        ("evidence", pa.string()),
    ]
)
COMPARISON_NAMES = ["name", "phone", "address", "nickname", "device"]


def _predictions_to_arrow(df: Any, guard: HouseholdGuard) -> pa.Table:
    arrow = df.as_pyarrow_table()
    present = [c for c in COMPARISON_NAMES if f"mw_{c}" in arrow.column_names]
    cols = {c: arrow.column(f"mw_{c}").to_pylist() for c in present}
    tf_adj = arrow.column("mw_tf_adj_name").to_pylist() if "mw_tf_adj_name" in arrow.column_names else None
    probability = arrow.column("match_probability").cast(pa.float64()).to_pylist()
    evidence = []
    for i in range(arrow.num_rows):
        row: dict[str, Any] = {c: round(cols[c][i], 2) for c in present if cols[c][i] is not None}
        if tf_adj is not None and tf_adj[i]:
            row["name_frequency"] = round(tf_adj[i], 2)
        weights = [cols[c][i] if c in cols else None for c in ("name", "phone")]
        if guard.applies(*weights) and probability[i] > HOUSEHOLD_CAP:
            row["guard"] = "names alike but not equal, phones differ: review, not merge"
            probability[i] = HOUSEHOLD_CAP
        evidence.append(json.dumps(row, ensure_ascii=False))
    return pa.table(
        {
            "left_key": arrow.column("unique_id_l").cast(pa.string()),
            "right_key": arrow.column("unique_id_r").cast(pa.string()),
            "match_probability": pa.array(probability, pa.float64()),
            "match_weight": arrow.column("match_weight").cast(pa.float64()),
            "evidence": pa.array(evidence, pa.string()),
        }
    )
