"""apps layer (see ARCHITECTURE.md)."""
