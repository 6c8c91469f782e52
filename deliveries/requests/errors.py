class ActionRefused(Exception):
    """An action the rules do not allow now. Its message tells the partner what to do."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NameTaken(ActionRefused):
    """A delivered file has this name already (whoever may remove files can replace it)."""
