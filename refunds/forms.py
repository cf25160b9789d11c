"""Input shape only: who may refund what, and how much, is `refunds.services`' call."""

from django import forms

from marketplace.forms import AmountField
from refunds.models import RefundRequest


def _note(label: str, *, required: bool, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=2000,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RefundRequestForm(forms.Form):
    reason = forms.ChoiceField(
        label="Why are you asking?", choices=RefundRequest.Reason.choices, widget=forms.RadioSelect
    )
    note = _note(
        "Anything the seller should know?", required=False, help_text="The seller reads this."
    )
    amount = AmountField(
        label="Ask for less (optional)",
        help_text="Leave empty to ask for everything this item has left.",
    )


class RefundApproveForm(forms.Form):
    amount = AmountField(
        label="Amount to refund", help_text="Leave empty to refund what the buyer asked for."
    )
    note = _note("Note to the buyer (optional)", required=False)


class RefundDeclineForm(forms.Form):
    note = _note("Why do you decline?", required=True, help_text="The buyer reads this.")


class SellerLineRefundForm(forms.Form):
    amount = AmountField(
        label="Amount to refund", help_text="Leave empty to refund everything the item has left."
    )
    note = _note(
        "Why are you refunding it?",
        required=True,
        help_text="For example: you cannot make it. The buyer reads this.",
    )


class StaffLineRefundForm(forms.Form):
    amount = AmountField(
        label="Amount to refund",
        help_text="Leave empty for the full request, or everything the item has left.",
    )
    reason = forms.ChoiceField(
        label="Reason category", choices=RefundRequest.Reason.choices, initial="OTHER"
    )
    note = _note(
        "Reason", required=True, help_text="Required. Kept on the request; the buyer reads it."
    )


class StaffRefundFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "Any status"), *RefundRequest.Status.choices], required=False
    )
    older_than_days = forms.IntegerField(
        label="Older than (days)", min_value=0, max_value=3650, required=False
    )


class SellerRefundFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "Any status"), *RefundRequest.Status.choices], required=False
    )


class StaffRefundReasonForm(forms.Form):
    """The admin action's confirmation: one reason for every selected request."""

    reason = forms.CharField(
        label="Reason",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Required. Kept on each request; the buyer reads it.",
    )
