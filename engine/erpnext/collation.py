"""When ERPNext takes two names for one: see storage/collation.py, where `fold` lives (below both
the engine and the storage layer, which stores name keys folded the same way)."""

from storage.collation import fold

__all__ = ['fold']
