"""What may name a folder of the raw zone: a source or an entity becomes ``source=<name>`` and
``entity=<name>``, so a name is checked where it is first given (``ecfusion sources add``, a
``[sources.NAME]`` table, ``--entity``), not at the first landing. Light: the CLI imports it."""

from __future__ import annotations

FOLDER_NAME_RULE = "letters, digits, '-', '_' or '.', not starting with '.' or '_'"


def is_folder_name(value: str) -> bool:
    """Whether ``value`` may name a source or an entity: no '/', no blank, nothing a shell or a
    Hive-style partition reader trips over."""
    return bool(value) and not value.startswith((".", "_")) and all(c.isalnum() or c in "-_." for c in value)
