from decimal import Decimal

from django import forms
from django.core.validators import MinValueValidator
from django_countries import countries
from django_countries.fields import LazyTypedChoiceField

from catalog.models import Category, License, Product, ShippingProfile
from marketplace.uploads import validate_file_name


def cents_from_amount(amount: Decimal | None) -> int | None:
    """ "12.50" → 1250. The form already limited it to two decimal places."""
    if amount is None:
        return None
    return int((amount * 100).to_integral_value())


def amount_from_cents(cents: int | None) -> Decimal | None:
    """1250 → Decimal("12.50") (always two places, so the form shows "6.00", not "6")."""
    return None if cents is None else (Decimal(cents) / 100).quantize(Decimal("0.01"))


class MoneyField(forms.DecimalField):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", Decimal("0"))
        kwargs.setdefault("max_value", Decimal("99999.99"))
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("max_digits", 7)
        kwargs.setdefault(
            "widget", forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"})
        )
        super().__init__(**kwargs)


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Category) -> str:
        return f"{'— ' * obj.depth}{obj.name}"


class ListingForm(forms.Form):
    """The listing editor. Shape only: which fields apply to which kind, and cents."""

    title = forms.CharField(max_length=120)
    description = forms.CharField(
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text="Markdown: **bold**, _italic_, lists, links. What it is, what it fits, "
        "how to print or care for it.",
    )
    category = CategoryChoiceField(queryset=Category.objects.order_by("path"))
    tags = forms.CharField(
        required=False, max_length=300, help_text="Comma-separated, e.g. planter, succulent, pot"
    )
    price = MoneyField(label="Price (USD)", help_text="0 makes a digital file free.")
    slug = forms.SlugField(
        label="Web address",
        required=False,
        max_length=140,
        help_text="The end of the listing's link. Old links keep working if you change it.",
    )
    size_x_mm = forms.DecimalField(
        label="Width (mm)", required=False, max_digits=7, decimal_places=1, min_value=0
    )
    size_y_mm = forms.DecimalField(
        label="Depth (mm)", required=False, max_digits=7, decimal_places=1, min_value=0
    )
    size_z_mm = forms.DecimalField(
        label="Height (mm)", required=False, max_digits=7, decimal_places=1, min_value=0
    )

    # FILE
    license = forms.ChoiceField(
        label="Licence", choices=[("", "Choose a licence…"), *License.choices], required=False
    )
    print_material = forms.CharField(label="Recommended material", required=False, max_length=60)
    layer_height_mm = forms.DecimalField(
        label="Layer height (mm)",
        required=False,
        max_digits=4,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=5,
    )
    infill_percent = forms.IntegerField(
        label="Infill (%)", required=False, min_value=0, max_value=100
    )
    supports_needed = forms.NullBooleanField(
        label="Supports needed",
        required=False,
        widget=forms.Select(
            choices=[("unknown", "Not specified"), ("true", "Yes"), ("false", "No")]
        ),
    )
    print_time_minutes = forms.IntegerField(
        label="Print time (minutes)", required=False, min_value=1, max_value=100_000
    )
    bed_min_x_mm = forms.IntegerField(
        label="Bed X needed (mm)", required=False, min_value=1, max_value=5000
    )
    bed_min_y_mm = forms.IntegerField(
        label="Bed Y needed (mm)", required=False, min_value=1, max_value=5000
    )
    bed_min_z_mm = forms.IntegerField(
        label="Build height needed (mm)", required=False, min_value=1, max_value=5000
    )

    # PHYSICAL
    material = forms.CharField(required=False, max_length=60)
    colour = forms.CharField(required=False, max_length=60)
    weight_grams = forms.IntegerField(
        label="Weight (g)", required=False, min_value=1, max_value=1_000_000
    )
    stock_quantity = forms.IntegerField(
        label="In stock", required=False, min_value=0, max_value=100_000
    )
    shipping_profile = forms.ModelChoiceField(
        label="Shipping profile",
        queryset=ShippingProfile.objects.none(),
        required=False,
        empty_label="Choose a shipping profile…",
        help_text="Where it ships from, how fast, and what each destination costs. "
        "Manage profiles under Shipping.",
    )

    FILE_ONLY = Product.FILE_FIELDS
    PHYSICAL_ONLY = Product.PHYSICAL_FIELDS

    def __init__(self, *args, kind: str, product: Product | None = None, seller=None, **kwargs):
        from marketplace.selectors import site_config_get

        if product is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_from(product)
        super().__init__(*args, **kwargs)
        owner = seller if seller is not None else getattr(product, "seller", None)
        if owner is not None:
            self.fields["shipping_profile"].queryset = ShippingProfile.objects.filter(seller=owner)
        self.kind = kind
        minimum = Decimal(site_config_get().min_price_cents) / 100
        self.min_price = minimum
        for name in self.PHYSICAL_ONLY if kind == Product.Kind.FILE else self.FILE_ONLY:
            del self.fields[name]
        if product is None:
            del self.fields["slug"]
        if kind == Product.Kind.PHYSICAL:
            self.fields[
                "price"
            ].help_text = f"At least ${minimum:.2f}; printed items cannot be free."
            self.fields["price"].validators.append(MinValueValidator(minimum))
        else:
            self.fields[
                "price"
            ].help_text = f"0 makes the file free; otherwise at least ${minimum:.2f}."

    def clean_price(self):
        price = self.cleaned_data["price"]
        if price is not None and 0 < price < self.min_price:
            raise forms.ValidationError(
                f"A paid item costs at least ${self.min_price:.2f} (or 0 for a free file)."
            )
        return price

    @staticmethod
    def initial_from(product: Product) -> dict:
        editable = Product.COMMON_FIELDS + Product.FILE_FIELDS + Product.PHYSICAL_FIELDS
        initial = {name: getattr(product, name) for name in (*editable, "slug")}
        initial["price"] = amount_from_cents(product.price_cents)
        initial["shipping_profile"] = product.shipping_profile_id
        initial["tags"] = ", ".join(t.name for t in product.tags.all())
        return initial

    def clean_tags(self) -> list[str]:
        names = [t.strip() for t in self.cleaned_data["tags"].split(",") if t.strip()]
        if len(names) > 13:
            raise forms.ValidationError("Use at most 13 tags.")
        if any(len(name) > 40 for name in names):
            raise forms.ValidationError("Each tag can be at most 40 characters.")
        return names

    def service_values(self) -> dict:
        """cleaned_data in the shape the catalog services take (amounts in cents)."""
        data = dict(self.cleaned_data)
        data["price_cents"] = cents_from_amount(data.pop("price"))
        if "stock_quantity" in data and data["stock_quantity"] is None:
            data["stock_quantity"] = 0
        for name in ("print_material", "material", "colour", "license"):
            if name in data and data[name] is None:
                data[name] = ""
        if "slug" in data and not data["slug"]:
            data.pop("slug")
        return data


class ProductImageUploadForm(forms.Form):
    image = forms.FileField(
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text="JPEG, PNG or WebP, at least 200 px, up to 10 MB. Location data is removed.",
    )
    alt_text = forms.CharField(label="Describe the picture", required=False, max_length=200)

    def clean_image(self):
        validate_file_name(self.cleaned_data["image"])
        return self.cleaned_data["image"]


class DigitalAssetUploadForm(forms.Form):
    file = forms.FileField(
        help_text="STL, 3MF, OBJ, PDF instructions, images, or a ZIP of those. "
        "We check every file's content."
    )
    is_previewable = forms.BooleanField(
        label="Show a 3D preview of this model",
        required=False,
        initial=True,
        help_text="Buyers see a simplified copy; the original stays private.",
    )

    def clean_file(self):
        validate_file_name(self.cleaned_data["file"])
        return self.cleaned_data["file"]


class BrowseForm(forms.Form):
    """The browse/search filters, all in the URL (shareable, back-button safe)."""

    # No max_length: a longer search is cut to SEARCH_QUERY_MAX_LENGTH and the page says
    # so (`q_shortened`), rather than failing validation and showing everything.
    q = forms.CharField(required=False, label="Search")
    category = forms.SlugField(required=False, max_length=80)
    kind = forms.ChoiceField(
        required=False,
        choices=[
            ("", "Files and printed items"),
            ("FILE", "Digital files"),
            ("PHYSICAL", "Printed items"),
        ],
        label="Type",
    )
    price = forms.ChoiceField(
        required=False, choices=[("", "Free and paid"), ("free", "Free"), ("paid", "Paid")]
    )
    min_price = MoneyField(label="Min $", required=False)
    max_price = MoneyField(label="Max $", required=False)
    min_rating = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        label="Rating",
        choices=[("", "Any rating"), ("4", "4★ and up"), ("3", "3★ and up"), ("2", "2★ and up")],
    )
    license = forms.ChoiceField(
        required=False, choices=[("", "Any licence"), *License.choices], label="Licence"
    )
    file_format = forms.ChoiceField(
        required=False,
        label="Format",
        choices=[
            ("", "Any format"),
            ("stl", "STL"),
            ("3mf", "3MF"),
            ("obj", "OBJ"),
            ("zip", "ZIP bundle"),
            ("pdf", "PDF"),
        ],
    )
    sort = forms.ChoiceField(required=False, choices=[("", "Best match")])

    def __init__(self, *args, **kwargs):
        from catalog.search import SORTS

        super().__init__(*args, **kwargs)
        # No sort means relevance for a search and newest (the first sort) for browsing;
        # only a search offers "Best match". An empty sort stays valid either way.
        searching = self.is_bound and bool(str(self.data.get("q", "")).strip())
        best = [("", "Best match")] if searching else []
        self.fields["sort"].choices = [*best, *SORTS.items()]
        self.q_shortened = False

    def clean_q(self) -> str:
        from catalog.search import SEARCH_QUERY_MAX_LENGTH

        q = self.cleaned_data["q"].strip()
        if len(q) > SEARCH_QUERY_MAX_LENGTH:
            q = q[:SEARCH_QUERY_MAX_LENGTH].rstrip()
            self.q_shortened = True
        return q

    def clean(self):
        data = super().clean()
        low, high = data.get("min_price"), data.get("max_price")
        if low is not None and high is not None and low > high:
            self.add_error("max_price", "The maximum is below the minimum.")
        return data


class ShippingProfileForm(forms.Form):
    """A shipping profile's own fields (the destinations are `ShippingRateFormSet`)."""

    name = forms.CharField(max_length=80, help_text="For you, e.g. “Small parcels”.")
    origin_country = LazyTypedChoiceField(label="Ships from", choices=countries)
    processing_min_days = forms.IntegerField(
        label="Processing time from (business days)", min_value=0, max_value=60, initial=1
    )
    processing_max_days = forms.IntegerField(
        label="to (business days)", min_value=0, max_value=60, initial=3
    )
    free_over = MoneyField(
        label="Free shipping over (USD)",
        required=False,
        min_value=Decimal("0.01"),
        help_text="Optional: free when the buyer's printed items from you reach this amount.",
    )

    def clean(self):
        data = super().clean()
        low, high = data.get("processing_min_days"), data.get("processing_max_days")
        if low is not None and high is not None and high < low:
            self.add_error("processing_max_days", "Must not be shorter than the first number.")
        return data

    @staticmethod
    def initial_from(profile: ShippingProfile) -> dict:
        return {
            "name": profile.name,
            "origin_country": profile.origin_country.code,
            "processing_min_days": profile.processing_min_days,
            "processing_max_days": profile.processing_max_days,
            "free_over": amount_from_cents(profile.free_over_cents),
        }

    def service_values(self) -> dict:
        data = dict(self.cleaned_data)
        data["free_over_cents"] = cents_from_amount(data.pop("free_over"))
        return data


EVERYWHERE_ELSE = "*"


class ShippingRateForm(forms.Form):
    """One destination: a country, or everywhere else, and its two rates."""

    country = LazyTypedChoiceField(
        label="Destination",
        required=False,
        choices=[("", "—"), (EVERYWHERE_ELSE, "Everywhere else"), *countries],
    )
    first_item = MoneyField(label="First item (USD)", required=False)
    additional_item = MoneyField(label="Each additional item (USD)", required=False)

    def clean(self):
        data = super().clean()
        if data.get("country") and data.get("first_item") is None:
            self.add_error("first_item", "Enter the first item's rate (0 for free).")
        if data.get("country") and data.get("additional_item") is None:
            data["additional_item"] = Decimal("0")
        return data


class _BaseRateFormSet(forms.BaseFormSet):
    def rates(self):
        from catalog.services import RateInput

        rates = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data.get("country"):
                continue
            rates.append(
                RateInput(
                    country="" if data["country"] == EVERYWHERE_ELSE else data["country"],
                    first_item_cents=cents_from_amount(data["first_item"]),
                    additional_item_cents=cents_from_amount(data["additional_item"]),
                )
            )
        return rates

    def clean(self):
        if any(self.errors):
            return
        seen = [r.country for r in self.rates()]
        if not seen:
            raise forms.ValidationError("Add at least one destination.")
        if len(seen) != len(set(seen)):
            raise forms.ValidationError("Each destination may appear only once.")


ShippingRateFormSet = forms.formset_factory(
    ShippingRateForm, formset=_BaseRateFormSet, extra=3, max_num=60, validate_max=True
)


def rate_initial(profile: ShippingProfile) -> list[dict]:
    return [
        {
            "country": rate.country.code or EVERYWHERE_ELSE,
            "first_item": amount_from_cents(rate.first_item_cents),
            "additional_item": amount_from_cents(rate.additional_item_cents),
        }
        for rate in profile.rates.all()
    ]
