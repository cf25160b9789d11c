from django import forms


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


class ShipForm(forms.Form):
    carrier = forms.CharField(max_length=60, required=False, help_text="e.g. USPS, DHL, Royal Mail")
    tracking_number = forms.CharField(max_length=100, required=False)
