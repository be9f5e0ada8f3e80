"""sources layer (see ARCHITECTURE.md)."""
