"""The workspace and its configuration file, ``ecfusion.toml`` (ARCHITECTURE "Data at rest").

A workspace is one folder holding the lake, the warehouse, the control-plane database and
the key store of one deployment. ``Workspace.open`` validates the config with pydantic; a
bad file raises ``ConfigError`` naming the file, the key and the fix, never a traceback.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ecfusion.errors import ConfigError, WorkspaceError

CONFIG_NAME = "ecfusion.toml"


# the engines set-based stages run on (ecfusion.engine.open_engine)
EngineName = Literal["duckdb", "spark"]
ENGINES: tuple[str, ...] = get_args(EngineName)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WorkspaceSection(_Section):
    name: str = "ecfusion"
    timezone: str = Field(
        "Asia/Shanghai",
        description="the zone of the raw zone's dt= partition dates (the day a record landed); the "
        "warehouse's business_date is always the Asia/Shanghai date, as T/JNBDA 0003 has it",
    )

    @field_validator("timezone")
    @classmethod
    def _a_zone_name(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"{value!r} is not a time zone name, e.g. 'Asia/Shanghai'") from e
        return value


class LakeSection(_Section):
    root: str = Field("lake", description="folder of the lake, relative to the workspace")
    target_file_rows: int = Field(200_000, ge=1_000, description="rows per Parquet file before rolling")


# DuckDB gains nothing from more threads than cores, and each one is a process slot of the machine:
# 100000 of them starved it of processes (no shell, no service could start one) before DuckDB failed
MAX_THREADS = 256


class WarehouseSection(_Section):
    engine: EngineName = "duckdb"
    # "" would be the workspace itself: a second warehouse beside ecfusion.toml, the real one ignored
    path: str = Field(
        "warehouse", min_length=1, description="folder of the warehouse, relative to the workspace"
    )
    memory_limit: str = Field(
        "",
        description="the most memory DuckDB may use in a run, e.g. '6GB' (past it, it spills to disk "
        "beside the warehouse; a stage that still does not fit fails the run); '' = DuckDB's default, "
        "80% of the machine's memory",
    )
    threads: int = Field(
        0, ge=0, le=MAX_THREADS,
        description=f"DuckDB threads of a run; 0 = one per core (at most {MAX_THREADS})",
    )

    @field_validator("memory_limit")
    @classmethod
    def _a_size_duckdb_reads(cls, value: str) -> str:
        if value:
            import duckdb  # here: reading a configuration needs no database

            try:
                duckdb.connect(config={"memory_limit": value}).close()
            except duckdb.Error as e:
                raise ValueError(f"{value!r} is not a size DuckDB reads, e.g. '6GB' or '512MB' ({e})") from e
        return value

    def duckdb_settings(self) -> dict[str, str | int]:
        """The settings of a DuckDB connection that runs stages (only those set)."""
        out: dict[str, str | int] = {}
        if self.memory_limit:
            out["memory_limit"] = self.memory_limit
        if self.threads:
            out["threads"] = self.threads
        return out


class ControlSection(_Section):
    url: str = Field(
        "",
        description="SQLAlchemy URL; empty means sqlite file control.db in the workspace; a SQLite file's "
        "relative path (sqlite:///state/control.db) is relative to the workspace, as every path here",
    )

    @field_validator("url")
    @classmethod
    def _a_url_sqlalchemy_reads(cls, value: str) -> str:
        """SQLAlchemy's own reading of the URL and its dialect: a malformed URL or an unknown database
        is refused here, with the file and the key, not at the first command that connects."""
        if value:
            # here: a workspace that sets no URL reads its configuration without SQLAlchemy
            from sqlalchemy.engine import make_url
            from sqlalchemy.exc import ArgumentError, NoSuchModuleError

            try:
                make_url(value).get_dialect()
            except NoSuchModuleError as e:
                raise ValueError(
                    f"{without_password(value)!r} names no database SQLAlchemy knows ({e}), e.g. "
                    "'postgresql+psycopg://user@127.0.0.1:5432/ecfusion'"
                ) from e
            except (ArgumentError, ValueError) as e:  # ValueError: a port that is not a number
                raise ValueError(
                    f"{without_password(value)!r} is not a SQLAlchemy URL ({e}), e.g. "
                    "'postgresql+psycopg://user@127.0.0.1:5432/ecfusion'"
                ) from e
        return value


def without_password(url: str) -> str:
    """``url`` with any password in it starred: what a message may print of a URL (an error, the
    demo's summary). Up to the last ``@`` before the query, as a password may hold ``/`` or an
    unescaped ``@``: a host starred too is better than part of a password shown."""
    return re.sub(r"(://[^/@:]*:)[^?]*@", r"\1***@", url)


class SecuritySection(_Section):
    cipher: Literal["aes-256-gcm", "sm4-gcm"] = "aes-256-gcm"
    master_key_env: str = "ECFUSION_MASTER_KEY"
    master_key_file: str = "keys/master.key"
    keystore_path: str = "keys/keystore.db"
    pii_fields: str = Field(
        "pii_fields.toml",
        description="the workspace's own personal-field declarations (same format as the packaged "
        "security/pii_fields.toml), added to the packaged ones when the file exists",
    )


class CompletionSection(_Section):
    ip_database: str = Field(
        "",
        description="ip2region .xdb (or start_ip,end_ip,province,city,isp .csv) file for IP → region "
        "completion; empty turns it off (none ships)",
    )


class StandardizeSection(_Section):
    mappings: str = Field(
        "mappings",
        description="folder of the workspace's own mapping files: a platform the shipped library lacks, "
        "or a replacement for the shipped file of a platform",
    )


class WorkspaceConfig(_Section):
    workspace: WorkspaceSection = WorkspaceSection()
    lake: LakeSection = LakeSection()
    standardize: StandardizeSection = StandardizeSection()
    warehouse: WarehouseSection = WarehouseSection()
    control: ControlSection = ControlSection()
    security: SecuritySection = SecuritySection()
    completion: CompletionSection = CompletionSection()
    # One table per configured source; each connector validates its own table (sources/).
    sources: dict[str, dict[str, Any]] = Field(default_factory=dict)


DEFAULT_CONFIG = """\
# ecfusion workspace configuration. Every key is optional; the values shown are the defaults.
# Paths are relative to this file's folder.

[workspace]
name = "{name}"
timezone = "Asia/Shanghai"          # raw files land in dt= folders of the day in this zone; the
                                    # warehouse stores times in UTC and business_date in Asia/Shanghai

[lake]
root = "lake"                       # raw zone and quarantine: lake/raw/source=…/entity=…/dt=…/*.parquet
target_file_rows = 200000           # rows per Parquet file before a new one is started

[standardize]
mappings = "mappings"               # your own mapping files (docs/mappings.md): <platform>.toml adds a
                                    # platform, or replaces the shipped mapping of that platform

[warehouse]
engine = "duckdb"                   # "duckdb" (embedded) or "spark" (needs the 'spark' extra and Java 17)
path = "warehouse"
memory_limit = ""                   # most memory DuckDB may use in a run, e.g. "6GB" (past it, it spills
                                    # to disk); "" = DuckDB's default, 80% of the machine's memory
threads = 0                         # DuckDB threads of a run; 0 = one per core (at most 256)

[control]
url = ""                            # SQLAlchemy URL of the control plane; "" = SQLite file control.db here
                                    # e.g. "postgresql+psycopg://user@127.0.0.1:5432/ecfusion", or
                                    # "sqlite:///state/control.db" (relative to this file's folder)

[security]
cipher = "aes-256-gcm"              # field encryption at landing: "aes-256-gcm" or "sm4-gcm"
master_key_env = "ECFUSION_MASTER_KEY"   # if this variable is set (64 hex chars) it is the master key
master_key_file = "keys/master.key"      # else this file (made by `ecfusion init`, mode 600)
keystore_path = "keys/keystore.db"       # per-subject data keys, wrapped by the master key
pii_fields = "pii_fields.toml"           # your own personal-field declarations, added to the packaged
                                         # ones when this file exists (a platform of your own: its
                                         # name, phone and address fields; docs/mappings.md)

[completion]
ip_database = ""                    # ip2region .xdb (structure 2.0/3.0) or a .csv of IP ranges
                                    # (start_ip,end_ip,province,city,isp) for IP → province/city;
                                    # "" = IP completion off (no IP database ships with ecfusion)

# Sources are added one table each, e.g.
# [sources.tmall_flagship]
# kind = "taobao"
# shop_id = "tmall_flagship"
"""


def _format_validation_error(path: Path, err: ValidationError) -> str:
    """One line: the file, the key, what is wrong with the value written there, and the fix."""
    first = err.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "(top level)"
    kind, why = first["type"], first["msg"].removeprefix("Value error, ")
    if kind == "extra_forbidden":
        return (
            f"{path}: key '{key}' is invalid ({why}); fix: remove it or check its spelling against the "
            "commented defaults from `ecfusion init`"
        )
    wrote = "a table" if isinstance(first["input"], dict) else repr(first["input"])
    if first["loc"] == ("control", "url"):  # the URL's password, never printed
        wrote = repr(without_password(str(first["input"])))
    why += "" if wrote in why else f"; it is {wrote}"
    if kind in ("literal_error", "enum"):
        fix = f"use one of the allowed values: {first.get('ctx', {}).get('expected', '')}"
    else:
        default = _default_of(first["loc"])
        fix = "correct the value" + (f" (its default is {default!r})" if default is not None else "")
    return f"{path}: key '{key}' is invalid ({why}); fix: {fix}"


def _default_of(loc: tuple[int | str, ...]) -> Any:
    """The default of the ``ecfusion.toml`` key at ``loc`` (section, key), None if it has none."""
    model: Any = WorkspaceConfig
    default = None
    for part in loc:
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return None
        model = field.annotation
        default = field.get_default(call_default_factory=True)
    return None if isinstance(default, BaseModel) else default


def load_config(path: Path) -> WorkspaceConfig:
    """Parse and validate one ``ecfusion.toml``."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise WorkspaceError(f"{path} not found", hint="run `ecfusion init DIR` to create a workspace") from e
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path} is not UTF-8 text", hint="save the file as UTF-8") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML ({e})", hint="fix the syntax at that line") from e
    try:
        return WorkspaceConfig.model_validate(data)
    except ValidationError as e:
        raise ConfigError(_format_validation_error(path, e)) from e


def _not_a_file(root: Path, *, new: bool = False) -> Path:
    """``root``, unless a file is there: a workspace is a folder (``/etc/passwd`` "did not exist")."""
    if root.exists() and not root.is_dir():
        hint = "pass a workspace folder, the one holding ecfusion.toml; `ecfusion init DIR` creates one"
        if new:
            hint = "pass a folder, or a name not yet taken: it is created"
        elif root.name == CONFIG_NAME:  # the workspace's configuration given for the workspace
            hint = f"pass the folder holding it: --workspace {root.parent}"
        raise WorkspaceError(f"workspace {root} is a file, not a folder", hint=hint)
    return root


@dataclass(frozen=True)
class Workspace:
    """An opened workspace: its root folder and validated configuration."""

    root: Path
    config: WorkspaceConfig

    @classmethod
    def open(cls, root: Path | str) -> Workspace:
        root = _not_a_file(Path(root).resolve())
        if not root.is_dir():
            raise WorkspaceError(f"workspace {root} does not exist", hint="run `ecfusion init DIR` first")
        return cls(root, load_config(root / CONFIG_NAME))

    @classmethod
    def init(cls, root: Path | str, *, name: str | None = None) -> Workspace:
        """Create a workspace with the commented default config and a fresh master key file."""
        root = _not_a_file(Path(root).resolve(), new=True)
        root.mkdir(parents=True, exist_ok=True)
        cfg_path = root / CONFIG_NAME
        if not cfg_path.exists():
            cfg_path.write_text(DEFAULT_CONFIG.format(name=name or root.name), encoding="utf-8")
        ws = cls.open(root)
        for folder in (ws.lake_root, ws.warehouse_root, ws.keys_root):
            folder.mkdir(parents=True, exist_ok=True)
        key_file = ws.path(ws.config.security.master_key_file)
        if not key_file.exists() and not os.environ.get(ws.config.security.master_key_env):
            key_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(os.urandom(32).hex() + "\n")
        return ws

    def path(self, relative: str) -> Path:
        p = Path(relative)
        return p if p.is_absolute() else self.root / p

    @property
    def lake_root(self) -> Path:
        return self.path(self.config.lake.root)

    @property
    def warehouse_root(self) -> Path:
        return self.path(self.config.warehouse.path)

    @property
    def spark_log(self) -> Path:
        """Where a run on Spark has the JVM write its own output (Spark's log lines, Java's warnings)."""
        return self.warehouse_root / "spark.log"

    @property
    def keys_root(self) -> Path:
        return self.path(self.config.security.keystore_path).parent

    @property
    def control_url(self) -> str:
        """``[control] url``, a SQLite file's relative path in it taken from the workspace as every
        path of ecfusion.toml is: from the current folder, a command run elsewhere would make and use
        an empty control plane there."""
        url = self.config.control.url
        if not url:
            return f"sqlite:///{self.root / 'control.db'}"
        from sqlalchemy.engine import make_url  # here: a workspace that sets no URL needs no SQLAlchemy

        parsed = make_url(url)
        file = parsed.database
        if parsed.get_backend_name() != "sqlite" or not file or file == ":memory:" or parsed.query.get("uri"):
            return url  # a server's database, an in-memory one, or a file: URI (read as SQLite reads it)
        return parsed.set(database=str(self.path(file))).render_as_string(hide_password=False)

    def master_key(self) -> bytes:
        """The 32-byte master key: from the environment variable if set, else from the key file."""
        sec = self.config.security
        env = os.environ.get(sec.master_key_env)
        source = f"environment variable {sec.master_key_env}"
        if env is None:
            key_file = self.path(sec.master_key_file)
            source = str(key_file)
            try:
                env = key_file.read_text().strip()
            except FileNotFoundError as e:
                raise ConfigError(
                    f"no master key: {sec.master_key_env} is unset and {key_file} does not exist",
                    hint=f"set {sec.master_key_env} to 64 hex characters or run `ecfusion init`",
                ) from e
        try:
            key = bytes.fromhex(env)
        except ValueError:
            key = b""
        if len(key) != 32:
            raise ConfigError(f"master key in {source} is not 64 hex characters (32 bytes)",
                              hint="generate one with: python -c 'import os; print(os.urandom(32).hex())'")
        return key
