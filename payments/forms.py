from django import forms


class SimulatorCheckoutForm(forms.Form):
    """The buttons of the simulated checkout page."""

    action = forms.ChoiceField(
        choices=[("pay", "Pay"), ("decline", "Decline"), ("expire", "Let it expire")]
    )
