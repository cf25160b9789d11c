from decimal import Decimal

from django import forms
from django.core.validators import RegexValidator
from django.forms.renderers import TemplatesSetting

from marketplace.models import SellerProfile, available_time_zones
from marketplace.uploads import validate_avatar, validate_file_name


class SiteFormRenderer(TemplatesSetting):
    """Renders every form with templates/forms/: label, control, help, errors alike."""

    form_template_name = "forms/form.html"
    field_template_name = "forms/field.html"


class AmountField(forms.DecimalField):
    """An amount typed in major units ("12.50"), cleaned to integer cents (1250). Two
    decimals: for the two-decimal currencies the marketplace sells in."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("min_value", Decimal("0.01"))
        kwargs.setdefault("max_digits", 10)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("inputmode", "decimal")

    def clean(self, value):
        amount = super().clean(value)
        return None if amount is None else int(amount * 100)


shop_slug_validator = RegexValidator(
    r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
    "Use lower-case letters, digits and single hyphens, like “maple-print-works”.",
)


class SellerProfileForm(forms.Form):
    display_name = forms.CharField(
        label="Shop name", max_length=80, help_text="Shown on your listings and shop page."
    )
    slug = forms.CharField(
        label="Shop address",
        max_length=60,
        min_length=3,
        required=False,
        validators=[shop_slug_validator],
        help_text="homecraft3d/shops/<address>/ — leave blank to make one from the name.",
    )
    bio = forms.CharField(
        label="About your shop",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="What you print, materials you like, how you ship. Plain text.",
    )
    # A FileField, not ImageField: the content checks (and their messages) are ours.
    avatar = forms.FileField(
        label="Shop picture",
        required=False,
        help_text="Square JPEG, PNG or WebP, at most 2 MB. We strip location data.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )

    accept_agreement = forms.BooleanField(
        label="I accept the seller agreement",
        error_messages={"required": "Tick the box to accept the seller agreement."},
    )

    def clean_slug(self) -> str:
        return self.cleaned_data["slug"].strip().lower()

    def clean_avatar(self):
        avatar = self.cleaned_data.get("avatar")
        if avatar:
            validate_file_name(avatar)
            validate_avatar(avatar)
        return avatar


def _time_zone_choices() -> list[tuple[str, str]]:
    return [(tz, tz.replace("_", " ")) for tz in sorted(available_time_zones())]


class SellerProfileUpdateForm(SellerProfileForm):
    remove_avatar = forms.BooleanField(label="Remove the current picture", required=False)
    time_zone = forms.ChoiceField(
        label="Your time zone",
        choices=_time_zone_choices,
        required=False,  # left out: the shop keeps the zone it has
        help_text="Your analytics count days in this time zone.",
    )

    def __init__(self, *args, profile: SellerProfile, **kwargs):
        # FormView passes initial={}; the profile's values win over an empty dict.
        kwargs["initial"] = {
            "display_name": profile.display_name,
            "slug": profile.slug,
            "bio": profile.bio,
            "time_zone": profile.time_zone,
            **(kwargs.get("initial") or {}),
        }
        super().__init__(*args, **kwargs)
        del self.fields["accept_agreement"]  # accepted when the shop was opened
        self.fields["slug"].required = True
        self.fields["slug"].help_text = "Changing it breaks links you have shared."
        if not profile.avatar:
            del self.fields["remove_avatar"]
