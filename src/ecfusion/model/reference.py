"""Reference data of the model kept as TOML files (the category tree, the carrier list): read one,
validate it with its pydantic model, and name the file in the error when it does not hold."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from ecfusion.errors import MappingError

M = TypeVar("M", bound=BaseModel)


def load_reference(path: Path, model: type[M], what: str, hint: str) -> M:
    """``path`` parsed and validated as ``model``; a MappingError naming ``what`` and the file if not."""
    try:
        return model.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except (tomllib.TOMLDecodeError, ValidationError) as e:
        raise MappingError(f"{path}: invalid {what} ({e})", hint=hint) from e
