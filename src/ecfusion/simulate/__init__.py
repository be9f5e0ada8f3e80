"""simulate layer (see ARCHITECTURE.md)."""
