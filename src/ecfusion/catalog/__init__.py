"""catalog layer (see ARCHITECTURE.md)."""
