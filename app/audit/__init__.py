"""The audit trail: who did what to which thing, when and why (written by every domain package)."""
