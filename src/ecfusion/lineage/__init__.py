"""lineage layer (see ARCHITECTURE.md)."""
