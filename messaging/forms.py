from django import forms

from messaging.email_kinds import optional_email_kinds
from messaging.models import EmailLog


class NotificationPreferencesForm(forms.Form):
    """One checkbox per optional email kind: ticked = send me this email."""

    enabled = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Email me about",
        choices=(),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enabled"].choices = optional_email_kinds()


class StaffEmailFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *EmailLog.Status.choices]
    )


class StaffEmailRetryForm(forms.Form):
    reason = forms.CharField(max_length=300, label="Reason", strip=True)
