"""The unified category tree 统一类目 (standard 6.1.2 b), loaded from ``categories.toml``.

The tree is data: one node per category with its platform aliases. It gives the model a
``category`` vocabulary (node ids), the shared enum map ``unified_category`` that platform
mappings use to map their category text onto a node (unknown text is quarantined), the SQL that
turns a node id into its path, and the rows of ``unified.category``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ecfusion.model.reference import load_reference

TREE_FILE = Path(__file__).parent / "categories.toml"
PATH_SEPARATOR = " > "


class Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str
    parent: str | None = None
    aliases: list[str] = Field(default_factory=list)


class CategoryTree(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    node: list[Node]

    @model_validator(mode="after")
    def _consistent(self) -> CategoryTree:
        ids = [n.id for n in self.node]
        if len(set(ids)) != len(ids):
            raise ValueError("a node id is used twice")
        for n in self.node:
            if n.parent is not None and n.parent not in ids:
                raise ValueError(f"node {n.id}: parent {n.parent} is not a node")
        aliases = [a for n in self.node for a in n.aliases]
        if len(set(aliases)) != len(aliases):
            raise ValueError("an alias names two nodes")
        return self

    def by_id(self) -> dict[str, Node]:
        return {n.id: n for n in self.node}

    def level(self, node: Node) -> int:
        return 1 if node.parent is None else 1 + self.level(self.by_id()[node.parent])

    def path(self, node: Node) -> str:
        if node.parent is None:
            return node.name
        return self.path(self.by_id()[node.parent]) + PATH_SEPARATOR + node.name

    def aliases(self) -> dict[str, str]:
        """Platform category text → node id (the shared enum map ``unified_category``)."""
        return {a: n.id for n in self.node for a in n.aliases}


@cache
def load_tree(path: Path = TREE_FILE) -> CategoryTree:
    return load_reference(path, CategoryTree, "category tree", "fix the node named above")


def category_rows(tree: CategoryTree | None = None) -> pa.Table:
    """The rows of ``unified.category``."""
    t = tree or load_tree()
    return pa.table(
        {
            "category_id": [n.id for n in t.node],
            "parent_id": [n.parent for n in t.node],
            "name": [n.name for n in t.node],
            "level": pa.array([t.level(n) for n in t.node], pa.int64()),
            "path": [t.path(n) for n in t.node],
        }
    )


def path_sql(column: str, tree: CategoryTree | None = None) -> str:
    """SQL: the unified path of the node id in ``column`` (NULL when it is NULL)."""
    t = tree or load_tree()
    whens = " ".join(
        "WHEN '{}' THEN '{}'".format(n.id.replace("'", "''"), t.path(n).replace("'", "''")) for n in t.node
    )
    return f"CASE {column} {whens} END"
