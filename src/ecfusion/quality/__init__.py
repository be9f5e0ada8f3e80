"""quality layer (see ARCHITECTURE.md)."""
