"""``ecfusion run [--retry-quarantined]``, ``ecfusion model dictionary|mappings|check|try`` and
``ecfusion warehouse status|quarantine|compact|rollback`` (thin CLI over ``ecfusion.warehouse``,
``ecfusion.model``, the mapping library and its column lineage; standard 5.2, 5.3.1.2, 5.3.3, 6.1).

The column lineage (SQLGlot) and the mapping trial (the lake's landing, SQLAlchemy) are imported
inside the commands that use them: every other command starts without them
(``tests/cli/test_startup.py``)."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import typer
from rich.progress import Progress
from rich.table import Table as RichTable
from rich.text import Text

from ecfusion.cli.app import ENGINE, WAIT_FOR_WRITER, app, console
from ecfusion.config import Workspace
from ecfusion.errors import InputError, MappingError, WarehouseIOError
from ecfusion.standardize.mapping import (
    MAPPINGS_DIR,
    library_files,
    load_mapping,
    own_folder,
    replacement_warnings,
    workspace_mappings,
)
from ecfusion.timings import slowest
from ecfusion.warehouse import Retry, RunSummary, SnapshotStore, connect
from ecfusion.warehouse import run as run_warehouse
from ecfusion.warehouse.compaction import FileSpace
from ecfusion.warehouse.pipeline import STEPS
from ecfusion.warehouse.rebuild import TableChange
from ecfusion.warehouse.retry import quarantine_groups, waiting
from ecfusion.warehouse.snapshot import describe_writer
from ecfusion.warehouse.status import SnapshotFile
from ecfusion.warehouse.status import status as warehouse_status

model_app = typer.Typer(help="The unified data model (standard 6.1).", no_args_is_help=True)
warehouse_app = typer.Typer(help="Warehouse snapshots.", no_args_is_help=True)
app.add_typer(model_app, name="model")
app.add_typer(warehouse_app, name="warehouse")


# what to do about a raw file a run leaves out (RunSummary.unreadable_files, Status.files_unreadable)
UNREADABLE_FIX = (
    "restore a file cut short or damaged on disk from the lake's backup, move away one that is not a "
    "raw-zone file"
)


def print_summary(s: RunSummary) -> None:
    """The run summary: per-platform figures, reconciliation, quarantine and flags."""
    console.print(
        f"run {s.run_id} on {s.engine}: {s.files_processed} raw files standardized, "
        f"{s.files_pending} pending, {s.seconds:.1f}s"
    )
    figures = RichTable(
        "platform", "orders", "GMV (CNY)", "refunds", "refunded (CNY)", title="unified orders"
    )
    for p in s.platforms:
        figures.add_row(
            p.platform, f"{p.orders:,}", f"{p.gmv:,.2f}", f"{p.refunds:,}", f"{p.refund_amount:,.2f}"
        )
    console.print(figures)
    if any(p.parcels for p in s.platforms):
        parcels = RichTable("platform", "parcels", "delivered", "median hours to deliver", title="parcels")
        for p in s.platforms:
            if p.parcels:
                hours = "-" if p.median_delivery_hours is None else f"{p.median_delivery_hours:.1f}"
                parcels.add_row(p.platform, f"{p.parcels:,}", f"{p.delivered:,}", hours)
        console.print(parcels)
    rec = RichTable(
        "source",
        "entity",
        "raw in",
        "unified",
        "quarantined",
        "duplicates",
        "balanced",
        title="reconciliation: raw in = unified + quarantined + duplicates",
    )
    for r in s.reconciliation:
        rec.add_row(
            r.source,
            r.entity,
            f"{r.raw_in:,}",
            f"{r.unified:,}",
            f"{r.quarantined:,}",
            f"{r.duplicates:,}",
            "yes" if r.balanced else Text("NO", style="red"),
        )
    console.print(rec)
    if s.retried:
        console.print(
            f"retried: {s.retried:,} quarantined records taken again from {s.retried_files:,} raw files "
            "(the files' other records, seen before, count as duplicates)"
        )
    for title, counts in (
        ("quarantined by rule", s.quarantine_by_rule),
        ("flagged and kept, by rule", s.flagged_by_rule),
        ("order lines flagged and kept, by rule (`unified.quality_flag` says why)", s.flagged_lines_by_rule),
        ("pending: raw records with no mapping yet (left for a later run; a platform's mapping file goes "
         "in the workspace's mappings folder, docs/mappings.md)", s.pending_reasons),
    ):
        if counts:
            console.print(f"{title}: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    if s.unreadable_files:
        console.print(
            f"raw files that cannot be read, left unprocessed: {len(s.unreadable_files)} ({UNREADABLE_FIX}; "
            "the next run takes what is there then)", highlight=False,
        )
        for path, why in sorted(s.unreadable_files.items()):
            console.print(f"  {path}: {why}", highlight=False)
    if s.quarantine_by_rule.get("unknown_status"):
        console.print(
            "unknown_status: a code the platform's map does not list (the reason in unified.quarantine "
            "names it); once you know what it means, add it to a copy of the mapping in the workspace's "
            "mappings folder (docs/mappings.md), then run "
            "`ecfusion run --retry-quarantined --rule unknown_status`"
        )
    if s.rebuilt is not None:
        print_rebuilt(s.rebuilt)
    for note in s.notes:
        console.print(note)


SLOWEST = 12  # steps --timings names; the rest are added up


def print_timings(s: RunSummary) -> None:
    """Where the run's time went: its slowest steps, then the rest added up."""
    top, others, rest = slowest(s.timings, SLOWEST)
    table = RichTable("step", "seconds", "share", title=f"where the run's {s.seconds:.1f} s went")
    for step, seconds in top:
        table.add_row(step, f"{seconds:.2f}", f"{seconds / s.seconds:.0%}" if s.seconds else "-")
    console.print(table)
    outside = max(s.seconds - sum(s.timings.values()), 0.0)
    console.print(
        f"{others} other steps: {rest:.2f} s; outside any step (finding the raw files, "
        f"planning, the summary, publishing): {outside:.2f} s. A step is a relation "
        "the engine computed (hdr_<platform>: a platform's records read; cls_: each record's outcome; chg_: "
        "the rows a table gets), a table written (write …), the commit or the checkpoint"
    )


def print_rebuilt(changes: list[TableChange]) -> None:
    """What a rebuild changed, per unified table that differs, with the columns that changed most."""
    differ = [c for c in changes if c.differs]
    if not differ:
        console.print("rebuilt from the raw zone: no unified row differs from the snapshot it replaced")
        return
    table = RichTable(
        "table", "before", "after", "added", "removed", "changed", "changed columns (rows)",
        title="rebuilt from the raw zone: what differs from the snapshot it replaced "
        "(`ecfusion warehouse rollback` brings that back)",
    )
    for c in differ:
        shown = ", ".join(f"{col} {n:,}" for col, n in list(c.columns.items())[:4])
        more = f" and {len(c.columns) - 4} more" if len(c.columns) > 4 else ""
        counts = (c.before, c.after, c.added, c.removed, c.changed)
        table.add_row(c.table, *(f"{n:,}" for n in counts), shown + more)
    console.print(table, highlight=False)


@app.command("run")
def run_command(
    workspace: Path = typer.Option(Path("."), "--workspace", "-w", help="workspace folder"),
    engine: str = ENGINE,
    retry: bool = typer.Option(
        False, "--retry-quarantined", help="take quarantined records again (after fixing their mapping)"
    ),
    rule: str = typer.Option(None, "--rule", help="with --retry-quarantined: only this rule's records"),
    platform: str = typer.Option(None, "--platform", help="with --retry-quarantined: only this platform's"),
    rebuild: bool = typer.Option(
        False, "--rebuild", help="standardize the whole raw zone again with the mappings in effect (after a "
        "mapping changed) and show what differs from the snapshot it replaces",
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="do all of it and print the summary, but publish nothing (with --rebuild: "
        "what a mapping change would do to the warehouse)",
    ),
    wait: float = WAIT_FOR_WRITER,
    as_json: bool = typer.Option(
        False, "--json", help="print the run's summary as JSON, no progress bar (for a scheduler: exit 1 "
        "when it does not balance)",
    ),
    timings: bool = typer.Option(
        False, "--timings", help="also print where the run's time went, slowest steps first (--json always "
        "has them)",
    ),
) -> None:
    """Standardize new raw data into the unified model and publish a warehouse snapshot."""
    ws = Workspace.open(workspace)
    if (rule or platform) and not retry:
        raise InputError("--rule and --platform choose what --retry-quarantined takes again",
                         hint="add --retry-quarantined")
    with Progress(console=console, transient=True, disable=as_json) as bar:
        task = bar.add_task("standardize", total=len(STEPS))

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, advance=1)

        summary = run_warehouse(
            ws,
            engine=engine or ws.config.warehouse.engine,
            progress=progress,
            retry=Retry(rule=rule, platform=platform) if retry else None,
            wait=wait,
            rebuild=rebuild,
            dry_run=dry_run,
        )
    if as_json:
        print(json.dumps(summary.as_dict(), default=str, ensure_ascii=False, indent=1))
    else:
        print_summary(summary)
        if timings:
            print_timings(summary)
    if not summary.balanced or summary.unreadable_files:
        raise typer.Exit(1)


@model_app.command("dictionary")
def dictionary_command(
    out: Path = typer.Option(None, "--out", help="write Markdown here (default: print)"),
    workspace: Path = typer.Option(
        None, "--workspace", "-w", help="trace this workspace's mappings too (default: the shipped library)"
    ),
    fmt: str = typer.Option("markdown", "--format", help="markdown, or json for a catalog to load"),
) -> None:
    """Generate the data dictionary (Markdown or JSON) from the model's table specs and the column
    lineage traced from the mapping library."""
    from ecfusion.lineage.columns import data_dictionary, data_dictionary_json

    if fmt not in ("markdown", "json"):
        raise InputError(f"unknown format {fmt!r}", hint="use --format markdown or --format json")
    mappings = None if workspace is None else workspace_mappings(Workspace.open(workspace))
    if fmt == "json":
        text = json.dumps(data_dictionary_json(mappings), ensure_ascii=False, indent=1)
    else:
        text = data_dictionary(mappings)
    if out is None:
        console.print(text, highlight=False)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
        console.print(f"wrote {out}")


@model_app.command("mappings")
def mappings_command(
    workspace: Path = typer.Option(Path("."), "--workspace", "-w", help="workspace folder"),
) -> None:
    """The mapping files a run of the workspace uses: the shipped library and the workspace's own."""
    ws = Workspace.open(workspace)
    own = own_folder(ws)
    table = RichTable("platform", "version", "targets", "file", title=f"mappings in effect (own: {own})")
    files = library_files(own)
    for platform, (m, path) in sorted(files.items()):
        where = "shipped" if path.parent == MAPPINGS_DIR else str(path)
        table.add_row(platform, m.version, ", ".join(m.rules()), where)
    console.print(table)
    for warning in replacement_warnings(files):
        console.print(f"warning: {warning}", soft_wrap=True)


@model_app.command("check")
def check_command(
    files: list[Path] = typer.Argument(..., help="mapping files (.toml) to validate and trace"),
) -> None:
    """Validate mapping files and show what each fills: every unified column and the payload fields
    it reads there (traced from the SQL the file generates). Every file is checked; the command
    fails if any is invalid."""
    from ecfusion.lineage.columns import mapping_report

    exit_code = 0
    for path in files:
        try:
            m = load_mapping(path)
        except MappingError as e:
            print(e.one_line(), file=sys.stderr)  # as the CLI says any error: one line, never wrapped
            exit_code = max(exit_code, e.exit_code)
            continue
        report = mapping_report(m)
        table = RichTable("unified column", "read from", title=f"{path}: {m.platform} v{m.version}")
        for (t, c), found in report.columns.items():
            table.add_row(f"{t}.{c}", "; ".join(s.text(markdown=False) for s in found))
        console.print(table, highlight=False)
        for target, name in report.unread:
            exit_code = max(exit_code, 1)
            console.print(
                f"{path}: [{target}] field '{name}' is read by no unified column: its values would be "
                "collected and dropped — a gap in ecfusion's model, please report it",
                highlight=False,
            )
        for warning in replacement_warnings({m.platform: (m, path)}):
            console.print(f"warning: {warning}", soft_wrap=True, highlight=False)
    if exit_code:
        raise typer.Exit(exit_code)


@model_app.command("try")
def try_command(
    file: Path = typer.Argument(..., help="the mapping file (.toml) to try"),
    sample: Path = typer.Option(..., "--sample", help="sample records: JSON, JSON lines, CSV or XML"),
    entity: str = typer.Option(
        None, "--entity", help="raw entity of the sample (default: the file's only one)"
    ),
    rows: int = typer.Option(3, "--rows", help="rows shown per unified table"),
) -> None:
    """Try a mapping on sample records in a throwaway workspace: the unified rows it makes, the
    records it quarantines and why. Nothing of any workspace is read or written."""
    from ecfusion.warehouse.trial import try_mapping

    trial = try_mapping(load_mapping(file), sample, entity=entity, limit=rows)
    bad = ", ".join(f"{k} {v:,}" for k, v in trial.unparseable.items()) or "none"
    console.print(
        f"{sample}: {trial.landed:,} {trial.entity} records landed, {trial.duplicates:,} exact duplicates; "
        f"unparseable (quarantined at landing): {bad}",
        highlight=False,
    )
    for r in trial.reconciliation:
        console.print(f"{r.source}/{r.entity}: raw in {r.raw_in:,} = unified {r.unified:,} + quarantined "
                      f"{r.quarantined:,} + duplicates {r.duplicates:,}")
    for reason in trial.quarantined:
        console.print(f"quarantined: {reason}", highlight=False)
    if trial.flagged:
        console.print("flagged and kept: " + ", ".join(f"{k} {v:,}" for k, v in trial.flagged.items()))
    if trial.flagged_lines:
        lines = trial.flagged_lines.items()
        console.print("order lines flagged and kept: " + ", ".join(f"{k} {v:,}" for k, v in lines))
    if trial.absent:
        console.print(
            f"in none of the {trial.landed:,} records (each reads NULL; check the spelling of a path the "
            "records do have): " + "; ".join(trial.absent),
            highlight=False,
        )
    for table, found in trial.rows.items():
        title = f"{table}: {trial.counts[table]:,} rows (first {len(found)})"
        shown = RichTable("column", "value", title=title)
        for i, row in enumerate(found):
            if i:
                shown.add_section()
            for column, value in row.items():
                if value is not None and value != []:
                    shown.add_row(column, str(value))
        console.print(shown, highlight=False)


@warehouse_app.command("quarantine")
def quarantine_command(
    workspace: Path = typer.Option(Path("."), "--workspace", "-w", help="workspace folder"),
    rule: str = typer.Option(None, "--rule", help="only this rule's records"),
    platform: str = typer.Option(None, "--platform", help="only this platform's records"),
) -> None:
    """What waits in quarantine, by rule, platform and mapping, with a reason for each group: what
    to fix before `ecfusion run --retry-quarantined` takes the records again. Below it, what landing
    quarantined (bytes that are not a record: bad JSON, a wrong encoding), which no run sees: fix
    the file and land it again."""
    from ecfusion.lake.result import landing_quarantine

    ws = Workspace.open(workspace)
    groups, there = [], ""
    which = Retry(rule=rule, platform=platform)
    if SnapshotStore.of(ws).current() is not None:  # before the first run, only landing has quarantined
        con = connect(ws)
        try:
            groups = quarantine_groups(con, which)
            if not groups and (rule or platform):
                there = f"; in quarantine: {waiting(con)}"
        finally:
            con.close()
    # landing's reasons are not a run's rules: --rule chooses among the run's only
    landed = [] if rule else [g for g in landing_quarantine(ws.lake_root) if platform in (None, g.source)]
    if not groups and not landed:
        matching = f" that matches {which.describe()}" if rule or platform else ""
        console.print(f"nothing in quarantine{matching}{there}", highlight=False)
        return
    if groups:
        table = RichTable("rule", "platform", "entity", "mapping", "records", "reasons", title="quarantine")
        table.columns[0].overflow = "fold"  # the rule is what --rule takes: never cut to "missing_requ…"
        for g in groups:
            more = f"\n… and {g.reasons - len(g.examples):,} more" if g.reasons > len(g.examples) else ""
            reasons = "\n".join(g.examples) + more
            table.add_row(g.rule, g.platform, g.entity, g.mapping, f"{g.records:,}", reasons)
        console.print(table, highlight=False)
    if landed:
        table = RichTable(
            "reason", "source", "entity", "records", "first",
            title=f"quarantined at landing ({ws.lake_root / 'quarantine'}): fix the file, land it again",
        )
        for q in landed:
            table.add_row(q.reason, q.source, q.entity, f"{q.records:,}", "\n".join(q.examples))
        console.print(table, highlight=False)


@warehouse_app.command("status")
def status_command(
    workspace: Path = typer.Option(Path("."), "--workspace", "-w", help="workspace folder"),
    last: int = typer.Option(5, "--last", min=1, help="how many recent runs to show"),
    as_json: bool = typer.Option(False, "--json", help="print the status as JSON (for monitoring)"),
) -> None:
    """What is live, what a rollback brings back, whether a writer is at work now, the last runs,
    and what waits: raw files no run has read, records in quarantine; and the replaced rows the
    live snapshot still stores until a run compacts them. Never waits for a run. Exits 74 (ECF112's
    code, an I/O error) when the live snapshot or the previous one is damaged (every block's checksum
    is verified) or gone, saying what to do."""
    st = warehouse_status(Workspace.open(workspace), last=last)
    damaged = WarehouseIOError.exit_code if st.live_error or st.previous_error else 0
    if as_json:
        console.print_json(json.dumps(st.as_dict(), default=str))
        if damaged:
            raise typer.Exit(damaged)
        return

    def snap(f: SnapshotFile | None, then: str, none: str) -> str:
        if f is None:
            return none
        return f"{f.name}  {f.bytes / 1e6:,.1f} MB  written {f.published_at:%Y-%m-%d %H:%M:%S} UTC{then}"

    def listed(counts: dict[str, int], unit: str, hint: str) -> str:
        total = sum(counts.values())
        parts = ", ".join(f"{k} {n:,}" for k, n in sorted(counts.items()))
        return f"{total:,} {unit}" + (f" ({parts}; {hint})" if total else "")

    doing = describe_writer(st.writer) if st.writer else "none at work"
    none = "cannot be read (below)" if st.live_error else "none (`ecfusion run` builds the first)"
    console.print(f"live        {snap(st.live, '', none)}")
    back = ("  (rolled back from: `ecfusion warehouse rollback --undo` brings it back)" if st.rolled_back
            else "  (`ecfusion warehouse rollback` brings it back)")
    no_previous = f"none: {st.previous_error}" if st.previous_error else "none"
    if st.previous_error:
        back = "  (damaged, below: `ecfusion warehouse rollback` refuses it)"
    console.print(f"previous    {snap(st.previous, back, no_previous)}", highlight=False)
    console.print(f"writer      {doing}")
    for d in st.drafts:
        console.print(
            f"draft       {snap(d, '', '')}  " + ("(its work so far)" if st.writer
                                                  else "(left by a killed run: the next run deletes it)")
        )
    if st.previous_error and st.previous is not None:
        console.print(f"DAMAGED     {st.previous_error}", highlight=False)
        console.print(
            "            the live snapshot is not affected; the next `ecfusion run` (or `ecfusion warehouse "
            "compact`) keeps it for rollback in the damaged one's place",
            highlight=False,
        )
    if st.live_error:
        console.print(f"DAMAGED     {st.live_error}", highlight=False)
        console.print(
            "            `ecfusion warehouse rollback` makes the previous snapshot live; the next "
            "`ecfusion run` (and `ecfusion er run`) take again from the raw zone what came after it. "
            "Raw waiting, quarantine and deleted rows are not known while there is no live snapshot to read.",
            highlight=False,
        )
        raise typer.Exit(WarehouseIOError.exit_code)
    console.print(f"raw waiting {listed(st.files_waiting, 'files', '`ecfusion run` reads them')}")
    if st.files_unreadable:
        console.print(
            f"            of which a run cannot take {len(st.files_unreadable):,} ({UNREADABLE_FIX}):",
            highlight=False,
        )
        for path, why in sorted(st.files_unreadable.items()):
            console.print(f"              {path}: {why}", highlight=False)
    why = "`ecfusion warehouse quarantine` says why"
    console.print(f"quarantine  {listed(st.quarantined, 'records', why)}")
    if st.quarantined_at_landing:
        console.print(f"            and at landing {listed(st.quarantined_at_landing, 'inputs', why)}")
    if st.outdated:
        console.print(f"model       the next run is refused: {st.outdated}", highlight=False)
    if st.mapping_error:
        console.print(f"mappings    cannot be loaded: {st.mapping_error}", highlight=False)
    for note in st.mappings.notes():
        console.print(f"mappings    {note}", highlight=False)
    then = (f"the next run compacts {', '.join(st.compacts_next)}" if st.compacts_next
            else "kept until a table is worth compacting")
    console.print(f"deleted     {listed(st.deleted_rows, 'rows still stored', then)}")
    if st.live is not None:
        free = (f", {st.free_bytes / 1e6:,.1f} MB of it free blocks (later runs reuse them; "
                "`ecfusion warehouse compact` returns them to the disk)" if st.free_bytes else "")
        console.print(f"file        {st.live.bytes / 1e6:,.1f} MB{free}")
    if st.runs:
        table = RichTable("run", "finished (UTC)", "raw in", "unified", "quarantined", "duplicates",
                          title=f"last {len(st.runs)} runs")
        for r in st.runs:
            table.add_row(r.run_id, f"{r.finished_at:%Y-%m-%d %H:%M:%S}" if r.finished_at else "",
                          *(f"{n:,}" for n in (r.raw_in, r.unified, r.quarantined, r.duplicates)))
        console.print(table, highlight=False)
    if damaged:
        raise typer.Exit(damaged)


@warehouse_app.command("compact")
def compact_command(
    workspace: Path = typer.Option(Path("."), "--workspace", "-w", help="workspace folder"),
    wait: float = WAIT_FOR_WRITER,
    as_json: bool = typer.Option(False, "--json", help="print what it did as JSON (for scripts)"),
) -> None:
    """Rewrite the live warehouse snapshot without the replaced rows and free blocks it still stores,
    and publish the rewrite as the next snapshot (readers are never blocked; `ecfusion warehouse
    rollback` brings the uncompacted one back). Runs compact tables by themselves once a quarter of
    one is replaced rows, but never shrink the file: this does."""
    done = SnapshotStore.of(Workspace.open(workspace)).compact(wait=wait)
    if as_json:
        console.print_json(json.dumps(asdict(done), default=str))
        return

    def held(f: FileSpace) -> str:
        free = f.free_bytes / 1e6
        return f"{f.bytes / 1e6:,.1f} MB, {free:,.1f} MB of it free, {f.dead_rows:,} replaced rows"

    if done.after is None or done.snapshot is None:
        console.print(f"nothing to compact: the live snapshot is {held(done.before)}")
        return
    console.print(f"before      {held(done.before)}")
    console.print(f"after       {held(done.after)}")
    console.print(f"live snapshot is now {done.snapshot.name} ({done.seconds:.1f}s)")


@warehouse_app.command("rollback")
def rollback_command(
    workspace: Path = typer.Option(Path("."), "--workspace", "-w"),
    undo: bool = typer.Option(False, "--undo", help="make the snapshot the last rollback left live again"),
    wait: float = WAIT_FOR_WRITER,
) -> None:
    """Make the previous warehouse snapshot live again (never under a running writer; never a damaged
    one). One step: a second rollback is refused, `--undo` takes the first one back."""
    prev = SnapshotStore.of(Workspace.open(workspace)).rollback(wait=wait, undo=undo)
    console.print(f"live snapshot is now {prev.name}")
