"""warehouse layer (see ARCHITECTURE.md)."""
