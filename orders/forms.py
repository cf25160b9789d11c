from django import forms
from django_countries import countries
from django_countries.fields import LazyTypedChoiceField

from orders.tracking import CARRIER_CHOICES, OTHER


class CartAddForm(forms.Form):
    product_id = forms.IntegerField(min_value=1, max_value=10**18)
    quantity = forms.IntegerField(min_value=1, max_value=1000, initial=1, required=False)


class CartUpdateForm(forms.Form):
    product_id = forms.IntegerField(min_value=1, max_value=10**18)
    quantity = forms.IntegerField(min_value=0, max_value=1000)


class CheckoutForm(forms.Form):
    email = forms.EmailField(
        label="Email for your receipt",
        help_text="We send the receipt and your order link here.",
    )
    # Guests only: an account accepted the Terms and Privacy Policy when it signed up.
    accept_terms = forms.BooleanField(
        label="I accept the Terms of service and the Privacy policy",
        error_messages={
            "required": "Tick the box to accept the Terms of service and the Privacy policy."
        },
    )

    def __init__(self, *args, guest: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not guest:
            del self.fields["accept_terms"]


class ShipForm(forms.Form):
    """Shape only; "tracking number unless no tracking" is the service's rule."""

    carrier = forms.ChoiceField(
        choices=[("", "Choose a carrier…"), *CARRIER_CHOICES], required=False
    )
    carrier_other = forms.CharField(
        label="Carrier name", max_length=60, required=False, help_text="If “Other”."
    )
    tracking_number = forms.CharField(max_length=100, required=False)
    no_tracking = forms.BooleanField(
        label="Sent without tracking", required=False, help_text="e.g. a plain letter."
    )

    def service_values(self) -> dict:
        data = self.cleaned_data
        carrier = data["carrier"]
        if carrier == OTHER:
            carrier = data["carrier_other"].strip()
        return {
            "carrier": carrier,
            "tracking_number": data["tracking_number"],
            "no_tracking": data["no_tracking"],
        }


class ShipToForm(forms.Form):
    country = LazyTypedChoiceField(label="Ship to", choices=countries)
