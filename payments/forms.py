from django import forms


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
