"""Forms of the account pages (profile, consent). Shape only: rules live in services."""

from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms

from marketplace.legal import ACCOUNT_KINDS, consent_ip, legal_accept
from marketplace.uploads import validate_avatar


class ProfileForm(forms.Form):
    display_name = forms.CharField(
        label="Display name",
        max_length=60,
        required=False,
        help_text="Shown on your reviews. Leave blank to appear as “Verified buyer”. "
        "Your email address is never shown.",
    )
    name = forms.CharField(
        label="Full name",
        max_length=150,
        required=False,
        help_text="Private: used on your receipts, never shown to other members.",
    )
    avatar = forms.FileField(
        label="Profile picture",
        required=False,
        help_text="Square JPEG, PNG or WebP, at most 2 MB. We strip location data.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    remove_avatar = forms.BooleanField(label="Remove the current picture", required=False)

    def clean_display_name(self) -> str:
        value = " ".join(self.cleaned_data["display_name"].split())
        if "@" in value:
            raise forms.ValidationError(
                "A display name cannot contain “@”: it must not look like an email address."
            )
        return value

    def clean_avatar(self):
        avatar = self.cleaned_data.get("avatar")
        if avatar:
            validate_avatar(avatar)
        return avatar


class LegalAcceptForm(forms.Form):
    accept = forms.BooleanField(
        label="I have read and accept the updated documents",
        error_messages={"required": "Tick the box to accept the updated documents."},
    )


class SignupForm(AllauthSignupForm):
    """allauth's signup plus the required consent box: creating the account records the
    user's acceptance of the Terms and Privacy Policy versions in force."""

    accept_terms = forms.BooleanField(
        label="I accept the Terms of service and the Privacy policy",
        error_messages={
            "required": "Tick the box to accept the Terms of service and the Privacy policy."
        },
    )

    def save(self, request):
        user = super().save(request)
        legal_accept(kinds=ACCOUNT_KINDS, user=user, ip=consent_ip(request))
        return user
