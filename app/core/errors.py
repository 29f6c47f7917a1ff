"""Domain errors shared by the services. The web layer turns them into messages and statuses."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the market refused an operation; nothing was changed."""


class NotAllowed(DomainError):
    """The actor may not do this."""


class NotFound(DomainError):
    """The thing does not exist or is not visible to the actor."""


class InvalidTransition(DomainError):
    def __init__(self, current: object, new: object) -> None:
        super().__init__(f"cannot move from {current} to {new}")
        self.current = current
        self.new = new


class ValidationFailed(DomainError):
    """Input broke a rule. ``errors`` maps a field name to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items()))
        self.errors = errors
