class ApplicationError(Exception):
    """A rule of the marketplace said no. `message` is safe to show to the user.

    Services raise it; views turn it into a form error or a flash message and a 4xx.
    """

    def __init__(self, message: str, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.extra = extra or {}
