from django import forms


class CartAddForm(forms.Form):
    product_id = forms.IntegerField(min_value=1)
    quantity = forms.IntegerField(min_value=1, max_value=1000, initial=1, required=False)
