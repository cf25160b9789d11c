from django.conf import settings
from django.core.mail.backends.console import EmailBackend as ConsoleBackend
from django.core.mail.backends.filebased import EmailBackend as FileBackend


class OutboxEmailBackend(ConsoleBackend):
    """The embedded default: print each message and also keep it in var/outbox/.

    Someone trying the marketplace can open the verification email from the terminal
    or from the outbox folder, with no mail server.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._files = FileBackend(file_path=str(settings.EMAIL_FILE_PATH))

    def send_messages(self, email_messages):
        sent = super().send_messages(email_messages)
        self._files.send_messages(email_messages)
        return sent
