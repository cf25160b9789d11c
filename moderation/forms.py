from django import forms

from moderation.models import Report, StaffActionLog, report_reason_choices


class ReportCreateForm(forms.Form):
    reason = forms.ChoiceField(label="What is wrong?")
    details = forms.CharField(
        label="Anything else our team should know?",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, reasons=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = report_reason_choices(reasons)


class ReportDecisionForm(forms.Form):
    """One staff decision on a report. Every decision needs a reason."""

    DISMISS, REMOVE, SUSPEND, UPHOLD, REVERSE = "dismiss", "remove", "suspend", "uphold", "reverse"
    decision = forms.ChoiceField(
        choices=[
            (DISMISS, "Dismiss"),
            (REMOVE, "Remove the content"),
            (SUSPEND, "Suspend the user"),
            (UPHOLD, "Uphold the decision"),
            (REVERSE, "Reverse the decision"),
        ]
    )
    reason = forms.CharField(
        label="Reason (recorded; the affected user reads it)",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    ends_at = forms.DateTimeField(
        label="Suspended until (empty: until lifted)",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False,
        choices=[("open", "Open"), ("resolved", "Resolved"), ("all", "All")],
    )
    kind = forms.ChoiceField(required=False, choices=[("", "Every kind"), *Report.Kind.choices])


class AuditFilterForm(forms.Form):
    actor = forms.CharField(required=False, max_length=254, label="Staff email")
    action = forms.CharField(required=False, max_length=60, label="Action (e.g. user.)")
    target_type = forms.ChoiceField(required=False, label="Target type")
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    q = forms.CharField(required=False, max_length=200, label="Text")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        types = (
            StaffActionLog.objects.order_by("target_type")
            .values_list("target_type", flat=True)
            .distinct()
        )
        self.fields["target_type"].choices = [("", "Any")] + [(t, t) for t in types if t]

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError("The start date is after the end date.")
        return data


class UnsuspendForm(forms.Form):
    reason = forms.CharField(
        label="Reason for lifting", max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
