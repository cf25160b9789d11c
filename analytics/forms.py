from datetime import timedelta

from django import forms

from analytics.seller import MAX_RANGE_DAYS, WINDOW_DAYS


class AnalyticsWindowForm(forms.Form):
    """`?days=7|30|90`, or a custom `?date_from=&date_to=` (both, in the seller's days)."""

    days = forms.TypedChoiceField(
        choices=[(d, f"Last {d} days") for d in WINDOW_DAYS],
        coerce=int,
        required=False,
        empty_value=30,
    )
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean()
        first, last = data.get("date_from"), data.get("date_to")
        if bool(first) != bool(last):
            raise forms.ValidationError("Give both dates of a custom range, or neither.")
        if first and last:
            if last < first:
                raise forms.ValidationError("The range ends before it starts.")
            if last - first >= timedelta(days=MAX_RANGE_DAYS):
                raise forms.ValidationError(f"Choose a range of at most {MAX_RANGE_DAYS} days.")
        return data


class OpsWindowForm(forms.Form):
    days = forms.TypedChoiceField(
        choices=[(1, "24 hours"), (7, "7 days"), (30, "30 days"), (90, "90 days")],
        coerce=int,
        required=False,
        empty_value=7,
    )
