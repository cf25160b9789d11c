from django import forms

from marketplace.forms import AmountField


class SimulatorCheckoutForm(forms.Form):
    """The buttons of the simulated checkout page."""

    action = forms.ChoiceField(
        choices=[
            ("pay", "Pay"),
            ("decline", "Decline"),
            ("expire", "Let it expire"),
            ("cancel", "Cancel"),
        ]
    )
    # The shipping address (printed items), checked by the simulator's own rule,
    # `payments.simulator.shipping_details_build`, as Stripe's page checks it.
    name = forms.CharField(required=False, max_length=500)
    line1 = forms.CharField(required=False, max_length=500)
    line2 = forms.CharField(required=False, max_length=500)
    city = forms.CharField(required=False, max_length=500)
    state = forms.CharField(required=False, max_length=500)
    postal_code = forms.CharField(required=False, max_length=500)
    phone = forms.CharField(required=False, max_length=500)


class ReconciliationExportForm(forms.Form):
    """The CSV export's date range (orders paid between the two dates, inclusive)."""

    date_from = forms.DateField(label="Paid from", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="Paid to", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError("The start date must be on or before the end date.")
        if end and end.year > 9000:  # the export adds a day to the end: keep it a real date
            raise forms.ValidationError("Choose an end date before the year 9000.")
        return cleaned


class SimulatorMoneyForm(forms.Form):
    """The buttons of the simulator's money page for an order (staff, test mode)."""

    action = forms.ChoiceField(
        choices=[
            ("refund", "Refund in the dashboard"),
            ("dispute", "Open a dispute"),
            ("win", "Win the dispute"),
            ("lose", "Lose the dispute"),
            ("balance_short", "The seller's Stripe balance is short"),
            ("balance_ok", "The seller's Stripe balance is fine"),
        ]
    )
    amount = AmountField(label="Amount", help_text="Empty: the whole rest of the charge.")
    dispute_id = forms.CharField(required=False, max_length=64)
    seller_id = forms.IntegerField(required=False, min_value=1, max_value=10**17)


class RefundAllocationForm(forms.Form):
    """One amount per line of the order (major units; empty = nothing for that line).
    Shape only: `payment_refund_allocate` checks the sums and what each line has left."""

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = list(order.items.all())
        for item in self.items:
            self.fields[f"line_{item.pk}"] = AmountField(label=item.title)

    def clean(self):
        cleaned = super().clean()
        if not any(cleaned.get(f"line_{item.pk}") for item in self.items):
            raise forms.ValidationError("Give an amount for at least one line.")
        return cleaned

    def allocations(self) -> dict[int, int]:
        return {
            item.pk: self.cleaned_data[f"line_{item.pk}"]
            for item in self.items
            if self.cleaned_data.get(f"line_{item.pk}")
        }


class StripeEventReprocessForm(forms.Form):
    """Staff: why an event is being processed again (written to the audit log)."""

    reason = forms.CharField(
        label="Reason",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Written to the staff action log, e.g. “handler fixed in release 42”.",
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Say why you are reprocessing this event.")
        return reason
