"""One exception tree for ecfusion (STYLE.md "Errors").

Every error a user can cause carries a stable ``code``, a ``message`` that names the
input at fault, and a ``hint`` that says how to fix it. The CLI prints
``error[CODE]: message (hint: ...)`` on one line and exits non-zero; the API returns
``{code, message, data}``. Nothing shows a traceback to a user for bad input.
"""

from __future__ import annotations


class EcfusionError(Exception):
    """Root of every error ecfusion raises on purpose."""

    code: str = "ECF000"
    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if code is not None:
            self.code = code

    def one_line(self) -> str:
        hint = f" (hint: {self.hint})" if self.hint else ""
        return f"error[{self.code}]: {self.message}{hint}"

    def as_api_body(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, "data": {"hint": self.hint}}


class UsageError(EcfusionError):
    """The command line itself is wrong: an unknown option or command, a missing argument, a value
    an option does not take. Exit code 2, as click's own usage errors."""

    code = "ECF010"
    exit_code = 2


class ConfigError(EcfusionError):
    """A configuration or declarative file (ecfusion.toml, a mapping, a rule file) is invalid."""

    code = "ECF100"
    exit_code = 2


class WorkspaceError(EcfusionError):
    """The workspace folder is missing, not initialised, or not writable."""

    code = "ECF110"
    exit_code = 2


class ControlPlaneUnavailable(WorkspaceError):
    """The control plane's database server (``[control] url``) cannot be reached or refuses us."""

    code = "ECF140"
    exit_code = 69  # EX_UNAVAILABLE (sysexits.h)


class ControlPlaneLost(ControlPlaneUnavailable):
    """The control plane's database server was reached, then dropped the connection in the middle
    of a command (restarted, shut down, the session terminated)."""

    code = "ECF141"


class ControlPlaneBusy(WorkspaceError):
    """The control plane's SQLite file stayed locked by another process (an ecfusion command, a
    sqlite3 shell, a database browser) longer than the busy timeout."""

    code = "ECF142"
    exit_code = 75  # EX_TEMPFAIL (sysexits.h): try again later


class ControlPlaneIOError(WorkspaceError):
    """The disk refused to read or write the control plane's SQLite file: full, failing, or a limit
    (a quota, a file size limit) reached."""

    code = "ECF143"
    exit_code = 74  # EX_IOERR (sysexits.h)


class ControlPlaneDamaged(WorkspaceError):
    """The control plane's SQLite file is damaged ("database disk image is malformed", "file is not
    a database"): a disk error, a crash of the machine under a disk that lies about flushing, or a
    change made to it outside SQLite."""

    code = "ECF144"
    exit_code = 74  # EX_IOERR (sysexits.h)


class ControlPlaneGone(WorkspaceError):
    """The control plane's SQLite file was deleted, moved or replaced while a command had it open:
    what the command wrote since went into a file no path leads to any more."""

    code = "ECF145"
    exit_code = 74  # EX_IOERR (sysexits.h)


class ListenError(EcfusionError):
    """A server command cannot listen where it was told: the port is taken, the host is not this
    machine's or no name of any."""

    code = "ECF150"
    exit_code = 69  # EX_UNAVAILABLE (sysexits.h)


class WarehouseBusy(WorkspaceError):
    """Another process is building the next warehouse snapshot (one writer at a time)."""

    code = "ECF111"
    exit_code = 75  # EX_TEMPFAIL (sysexits.h): try again later


class WarehouseIOError(WorkspaceError):
    """A warehouse snapshot file cannot be read (damaged: a disk error, a truncated copy, a change
    made outside ecfusion) or the next one cannot be written (a full disk)."""

    code = "ECF112"
    exit_code = 74  # EX_IOERR (sysexits.h)


class WarehouseOutdated(WorkspaceError):
    """The warehouse holds rows an earlier ecfusion keyed otherwise (``ecfusion.model.revisions``):
    building on it would store the next version of them twice; ``ecfusion run --rebuild`` once."""

    code = "ECF113"


class PathError(EcfusionError):
    """A file or folder a command needs is not usable as it is: a read-only folder, a file where
    a folder belongs (or a folder where a file does), no permission. The operating system's own
    words and the path, never a traceback."""

    code = "ECF130"
    exit_code = 74  # EX_IOERR (sysexits.h)

    @classmethod
    def of(cls, e: OSError) -> PathError:
        paths = " → ".join(str(p) for p in (e.filename, e.filename2) if p is not None)
        said = e.strerror or str(e)
        return cls(
            f"{said}: {paths}" if paths else said,
            hint="check that path: that it is there, a file or a folder as the command needs, and that "
            "this user may write to it",
        )


class InputError(EcfusionError):
    """A file or record offered by a user cannot be read at all (not: a bad row, which is quarantined)."""

    code = "ECF200"
    exit_code = 2


class SourceError(EcfusionError):
    """A source (platform API, database, broker, log) refused or failed in a way retries did not cure."""

    code = "ECF300"


class AuthError(SourceError):
    """Credentials or an OAuth token were rejected and could not be refreshed."""

    code = "ECF310"


class RateLimited(SourceError):
    """The source said we are calling too fast; ``retry_after`` seconds is its advice, if given."""

    code = "ECF320"

    def __init__(self, message: str, *, retry_after: float | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class KeyStoreError(EcfusionError):
    """The key store cannot be opened (wrong or missing master key) or a key is gone (erased subject)."""

    code = "ECF400"
    exit_code = 2


class SubjectErased(KeyStoreError):
    """The data key of a subject was destroyed (crypto-shredding): its ciphertext is unreadable forever."""

    code = "ECF401"


class MappingError(ConfigError):
    """A per-source mapping file is invalid."""

    code = "ECF120"


class EngineError(EcfusionError):
    """A set-based stage failed on its engine (DuckDB or Spark)."""

    code = "ECF500"


class OutOfMemory(EngineError):
    """DuckDB needed more memory than a run may use (``[warehouse] memory_limit``, ``threads``)."""

    code = "ECF510"
