"""invctl: an inventory ledger on plain, git-tracked JSON-Lines journals."""

__version__ = "0.1.0"
