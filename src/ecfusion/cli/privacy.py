"""``ecfusion privacy …``: key store status and erasure requests (T/JNBDA 0003-2025 7.4), thin over
``ecfusion.security``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ecfusion.cli.app import app, console
from ecfusion.config import Workspace
from ecfusion.errors import InputError

privacy_app = typer.Typer(help="Field encryption keys and erasure requests (crypto-shredding).",
                          no_args_is_help=True)
app.add_typer(privacy_app, name="privacy")

WS = typer.Option(Path("."), "--workspace", "-w", help="workspace folder")


@privacy_app.command("status")
def status_cmd(workspace: Path = WS) -> None:
    """Cipher, PII policy version, and how many data keys and erasures the key store holds."""
    from ecfusion.security.fields import FieldCipher

    ws = Workspace.open(workspace)
    cipher = FieldCipher.open(ws)
    try:
        stats = cipher.keystore.stats() if hasattr(cipher.keystore, "stats") else {}
        console.print(f"cipher {cipher.cipher}; PII policy {cipher.policy.version}; "
                      f"key store {ws.path(ws.config.security.keystore_path)}: "
                      f"{stats.get('keys', '?')} data keys, {stats.get('erasures', '?')} erased subjects")
    finally:
        cipher.close()


@privacy_app.command("erase")
def erase_cmd(
    reason: str = typer.Option(..., "--reason", help="request reference, recorded with the erasure"),
    subject: str = typer.Option(None, "--subject",
                                 help="subject key, e.g. taobao:<buyer_open_uid> or crm:<member_id>"),
    subject_id: str = typer.Option(None, "--subject-id", help="subject id as found in tokens"),
    phone: str = typer.Option(None, "--phone", help="erase everyone's data keyed to this phone number"),
    email: str = typer.Option(None, "--email", help="… to this e-mail"),
    id_number: str = typer.Option(None, "--id-number", help="… to this ID number"),
    workspace: Path = WS,
) -> None:
    """Crypto-shred a data subject: destroy its data keys; the lake is not rewritten."""
    from ecfusion.security.erasure import erase_person, personal_values
    from ecfusion.security.fields import FieldCipher, check_subject_id, check_subject_key

    # every value checked before anything is erased: a mistyped one erases nothing at all
    if subject:
        check_subject_key(subject)
    if subject_id:
        check_subject_id(subject_id)
    personal_values(phone=phone, email=email, id_number=id_number)
    ws = Workspace.open(workspace)
    cipher = FieldCipher.open(ws)
    try:
        records = []
        not_held: list[str] = []
        if subject:
            records.append(cipher.erase_subject(subject, reason))
        if subject_id:
            records.append(cipher.erase_subject_id(subject_id, reason))
        if phone or email or id_number:
            report = erase_person(cipher, ws.lake_root, reason=reason, phone=phone, email=email,
                                  id_number=id_number)
            records += report.records
            not_held = report.not_held
            console.print(f"scanned {report.files_scanned} raw files for matching blind indexes")
        if not records and not_held:  # the value given, masked: what was asked for is not held
            raise InputError(f"no data of {' or '.join(not_held)} is held: nothing was erased",
                             hint="if the person is known by an account, erase that with "
                                  "--subject <platform>:<account id>")
        if not records:
            raise InputError("nothing to erase",
                             hint="give --subject, --subject-id, --phone, --email or --id-number")
    finally:
        cipher.close()
    for record in records:
        console.print(f"erased subject {record.subject_id} at {record.erased_at:%Y-%m-%d %H:%M:%S} UTC "
                      f"({record.reason})", highlight=False)


@privacy_app.command("scan")
def scan_cmd(
    path: Annotated[Path, typer.Argument(help="a JSONL file of records as a source delivers them")],
    platform: str = typer.Option(..., "--platform", help="taobao, jd, pdd, douyin, crm, pos, service, …"),
    source: str = typer.Option(None, "--source", help="configured source name (default: the platform)"),
    encoding: str = typer.Option("utf-8", "--encoding", help="text encoding of the file"),
) -> None:
    """Dry run: which fields would be encrypted at landing, declared or detected (no values shown)."""
    from collections import Counter

    import orjson
    from rich.table import Table

    from ecfusion.security.pii import PiiPolicy
    from ecfusion.security.protect import findings

    policy = PiiPolicy.default()
    counts: Counter[tuple[str, str, str]] = Counter()
    records = unreadable = 0
    try:
        lines = path.read_text(encoding=encoding).splitlines()
    except (OSError, UnicodeDecodeError, LookupError) as e:
        raise InputError(f"cannot read {path}: {e}", hint="give a JSONL file and its --encoding") from e
    for line in lines:
        if not line.strip():
            continue
        try:
            payload = orjson.loads(line)
        except orjson.JSONDecodeError:
            unreadable += 1
            continue
        records += 1
        counts.update((f.path, f.kind, f.how) for f in findings(payload, source=source or platform,
                                                                 platform=platform, policy=policy))
    table = Table(title=f"{path.name}: {records} records, PII policy {policy.version}")
    for column in ("field", "kind", "how", "records"):
        table.add_column(column)
    for (field, kind, how), n in sorted(counts.items()):
        table.add_row(field, kind, how, str(n))
    console.print(table)
    if unreadable:
        console.print(f"{unreadable} lines are not JSON (they would be quarantined, sealed)")
