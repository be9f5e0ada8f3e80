"""``ecfusion er …``: entity resolution commands (T/JNBDA 0003-2025 6.1.3), thin over ``ecfusion.resolve``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import typer
from rich.table import Table

from ecfusion.cli.app import ENGINE, WAIT_FOR_WRITER, app, console
from ecfusion.config import Workspace

er_app = typer.Typer(
    help="Entity resolution: one_id for members, std_sku_id for products.", no_args_is_help=True
)
review_app = typer.Typer(help="The review queue of uncertain pairs.", no_args_is_help=True)
er_app.add_typer(review_app, name="review")
app.add_typer(er_app, name="er")

WS = typer.Option(Path("."), "--workspace", "-w", help="workspace folder")
TRUTH = typer.Option(..., "--truth", help="the simulated merchant's truth folder")

# what resolves (ecfusion.resolve): a decision or a filter on anything else matched nothing, silently
ENTITIES = ("member", "product")
REVIEW_STATUSES = ("open", "confirmed", "rejected", "linked", "all")


def _one_of(allowed: tuple[str, ...]) -> Callable[[str | None], str | None]:
    def check(value: str | None) -> str | None:
        if value is not None and value not in allowed:
            raise typer.BadParameter(f"{value!r} is not one of {', '.join(allowed)}")
        return value

    return check


ENTITY = typer.Option("member", "--entity", "-e", callback=_one_of(ENTITIES), help="member or product")


@er_app.command("run")
def run_cmd(
    workspace: Path = WS,
    engine: str = ENGINE,
    full: bool = typer.Option(False, "--full", help="resolve everything again, not only new accounts"),
    as_json: bool = typer.Option(False, "--json", help="print the summary as JSON"),
    wait: float = WAIT_FOR_WRITER,
) -> None:
    """Resolve members to one_id and listings to std_sku_id; write the fused tables."""
    from ecfusion.resolve import run

    ws = Workspace.open(workspace)
    with console.status("resolving…") as status:
        summary = run(
            ws, engine=engine or ws.config.warehouse.engine, full=full, wait=wait,
            progress=lambda msg: status.update(msg),
        )
    if as_json:
        console.print_json(json.dumps(summary.as_dict(), default=str))
        return
    kind = "incremental" if summary.incremental else f"full ({summary.full_reason})"
    console.print(
        f"{kind} run {summary.run_id}: {summary.raw_accounts} accounts → "
        f"{summary.unified_customers} customers ({summary.cross_platform_shoppers} cross-platform); "
        f"{summary.listings} listings → {summary.std_skus} standard SKUs; "
        f"{summary.events} events; {summary.review_queued} pairs queued for review"
    )


@er_app.command("explain")
def explain_cmd(
    left: str = typer.Argument(..., help="record key, e.g. taobao:tb123"),
    right: str = typer.Argument(..., help="record key, e.g. jd:jd_pin_9"),
    workspace: Path = WS,
    entity: str = ENTITY,
) -> None:
    """Are two accounts (or listings) the same identity, and why."""
    from ecfusion.resolve import explain

    ex = explain(Workspace.open(workspace), left, right, entity=entity)
    console.print(ex.verdict())
    for link in ex.direct or ex.path:
        weights = ", ".join(f"{k}={v}" for k, v in link.evidence.items())
        console.print(
            f"  {link.left} — {link.right}: {link.method}/{link.reason} (weight {link.weight:.4g}) {weights}",
        )
    for item in ex.review:
        console.print(f"  review: {item['status']} (score {item['score']:.3f})")


@er_app.command("evaluate")
def evaluate_cmd(
    truth: Path = TRUTH,
    workspace: Path = WS,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Pairwise and B-cubed precision/recall/F1 against truth; the worst false merges and missed pairs."""
    from ecfusion.resolve import evaluate

    result = evaluate(Workspace.open(workspace), truth)
    if as_json:
        console.print_json(json.dumps({k: v.as_dict() for k, v in result.items()}, default=str))
        return
    for name, sc in result.items():
        console.print(
            f"{name}: {sc.records} records, {sc.predicted_clusters} clusters ({sc.true_clusters} true); "
            f"pairwise P {sc.pairwise_precision:.4f} R {sc.pairwise_recall:.4f} F1 {sc.pairwise_f1:.4f}; "
            f"B-cubed P {sc.bcubed_precision:.4f} R {sc.bcubed_recall:.4f} F1 {sc.bcubed_f1:.4f}",
        )
    for name, s in result.items():
        if s.unmatched_truth:
            console.print(f"{name}: {s.unmatched_truth} truth rows have no record to score")
        if s.same_name_people is not None:
            console.print(
                f"{name}: {s.same_name_people} people share their full name with someone else; "
                f"{s.same_name_merged_pairs} pairs of them merged into one identity",
            )
        elif name == "members":
            console.print(
                "members: same-name check skipped: the truth folder has no persons.jsonl "
                '(one {"person_id": …, "name": …} per line)',
            )
        for w in s.worst_false_merges[:5]:
            console.print(
                f"false merge ({name}): {w['cluster']} holds {w['true_entities']} true entities "
                f"in {w['records']} records, e.g. {', '.join(map(str, w['examples']))}",
            )
        for m in s.worst_missed_pairs[:5]:
            console.print(
                f"missed ({name}): {m['truth']} split over {m['identities']} identities, e.g. "
                f"{m['left']} / {m['right']}: agree {', '.join(m['agree']) or 'nothing'}; "
                f"differ {', '.join(m['disagree']) or 'nothing'}",
            )


@review_app.command("list")
def review_list(
    workspace: Path = WS,
    entity: str = typer.Option(None, "--entity", "-e", callback=_one_of(ENTITIES), help="member or product"),
    status: str = typer.Option(
        "open", callback=_one_of(REVIEW_STATUSES), help="open, confirmed, rejected, linked or all"
    ),
    limit: int = typer.Option(50, min=1),
) -> None:
    """Pairs waiting for a decision, most likely matches first."""
    from ecfusion.resolve import Ledger

    items = Ledger(Workspace.open(workspace).control_url).reviews(
        entity, None if status == "all" else status, limit
    )
    table = Table("id", "entity", "left", "right", "score", "status", "evidence")
    for r in items:
        table.add_row(
            str(r.id),
            r.entity,
            r.left_key,
            r.right_key,
            f"{r.score:.3f}",
            r.status,
            json.dumps(r.evidence, ensure_ascii=False),
        )
    console.print(table)


def _decide(
    kind: str, workspace: Path, entity: str, left: str, right: str | None, by: str, note: str
) -> None:
    from ecfusion.resolve import Ledger

    Ledger(Workspace.open(workspace).control_url).decide(entity, kind, left, right, by=by, note=note)
    console.print(
        f"{kind} recorded for {left}{' and ' + right if right else ''}; the next `ecfusion er run` applies it"
    )


BY = typer.Option("cli", "--by", help="who decides (kept in the audit of decisions)")
NOTE = typer.Option("", "--note")


@review_app.command("confirm")
def review_confirm(
    left: str, right: str, workspace: Path = WS, entity: str = ENTITY, by: str = BY, note: str = NOTE
) -> None:
    """The two records are the same identity: always link them."""
    _decide("confirm", workspace, entity, left, right, by, note)


@review_app.command("reject")
def review_reject(
    left: str, right: str, workspace: Path = WS, entity: str = ENTITY, by: str = BY, note: str = NOTE
) -> None:
    """The two records are different identities: never put them together."""
    _decide("reject", workspace, entity, left, right, by, note)


@review_app.command("split")
def review_split(
    record: str, workspace: Path = WS, entity: str = ENTITY, by: str = BY, note: str = NOTE
) -> None:
    """Take one record out of its identity: it stays on its own in every later run."""
    _decide("split", workspace, entity, record, None, by, note)
