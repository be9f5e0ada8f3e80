"""lake layer (see ARCHITECTURE.md)."""
