"""The one base of every refusal the services make: the web maps each to its answer once."""


class DomainError(Exception):
    """A command that cannot be true or is not allowed; nothing is recorded."""
