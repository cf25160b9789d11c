"""Notice and takedown for intellectual property (URL namespace "moderation")."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.views import View
from django_ratelimit.decorators import ratelimit

from marketplace.access import VerifiedEmailRequiredMixin
from marketplace.exceptions import ApplicationError
from marketplace.legal import consent_ip
from moderation.ip import counter_notice_submit, ip_notice_submit, ip_takedown_entry_for_seller


class IPNoticeForm(forms.Form):
    claimant_name = forms.CharField(label="Your full name", max_length=150)
    claimant_email = forms.EmailField(
        label="Your email address", help_text="We write to you here about this notice."
    )
    claimant_organisation = forms.CharField(
        label="Company or organisation you act for", max_length=150, required=False
    )
    work_description = forms.CharField(
        label="The work that is copied",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Describe your design and what rights you hold in it.",
    )
    work_url = forms.URLField(
        assume_scheme="https",
        label="Where your work is published",
        max_length=500,
        required=False,
        help_text="A link to your original, if it is online.",
    )
    listing_url = forms.URLField(
        assume_scheme="https",
        label="The listing on Home Craft 3D that infringes it",
        max_length=500,
        help_text="Copy the address of the listing page, like https://…/p/some-listing/.",
    )
    sworn_statement = forms.BooleanField(
        label="I swear, under penalty of perjury, that the information in this notice is "
        "accurate and that I am the rights holder or authorised to act for them, and I "
        "believe in good faith that the use described is not authorised.",
        error_messages={"required": "Tick the sworn statement to send the notice."},
    )
    signature = forms.CharField(
        label="Signature", max_length=150, help_text="Type your full name as your signature."
    )


@method_decorator(
    ratelimit(key="ip", rate=lambda group, request: settings.IP_NOTICE_RATE, method="POST"),
    name="post",
)
class IPNoticeView(View):
    """Anyone (no account needed): report a listing that infringes their rights."""

    template_name = "moderation/ip_notice_form.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        initial = {"listing_url": request.GET.get("listing", "")[:500]}
        return render(request, self.template_name, {"form": IPNoticeForm(initial=initial)})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = IPNoticeForm(request.POST)
        if form.is_valid():
            try:
                ip_notice_submit(
                    **form.cleaned_data,
                    reporter=request.user if request.user.is_authenticated else None,
                    ip=consent_ip(request),
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                return render(request, "moderation/ip_notice_sent.html", {"form": None})
        return render(request, self.template_name, {"form": form}, status=400)


class CounterNoticeForm(forms.Form):
    explanation = forms.CharField(
        label="Why the listing was removed by mistake",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="For example: you designed it yourself, you hold a license, or the design "
        "is not the one in the notice.",
    )
    full_name = forms.CharField(label="Your full name", max_length=150)
    address = forms.CharField(
        label="Your postal address", max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )
    phone = forms.CharField(label="Phone number", max_length=40, required=False)
    good_faith_statement = forms.BooleanField(
        label="I swear, under penalty of perjury, that I have a good-faith belief that the "
        "listing was removed by mistake or misidentification, and I agree that my name, "
        "address and this statement are sent to the person who sent the notice.",
        error_messages={"required": "Tick the statement to send the counter-notice."},
    )
    signature = forms.CharField(
        label="Signature", max_length=150, help_text="Type your full name as your signature."
    )


class CounterNoticeView(VerifiedEmailRequiredMixin, View):
    """The seller whose listing was taken down for IP (the decision's subject): send a
    counter-notice, once."""

    template_name = "moderation/ip_counter_notice_form.html"

    def _entry(self, request, pk):
        entry = ip_takedown_entry_for_seller(entry_id=pk, seller=request.user)
        if entry is None:
            raise Http404("No such decision.")
        return entry

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        entry = self._entry(request, pk)
        return render(request, self.template_name, {"entry": entry, "form": CounterNoticeForm()})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        entry = self._entry(request, pk)
        form = CounterNoticeForm(request.POST)
        if form.is_valid():
            try:
                counter_notice_submit(entry=entry, seller=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    "Your counter-notice was sent. We forwarded it to the person who sent the "
                    "notice; our team will tell you what happens next.",
                )
                return redirect("moderation:statement", pk=entry.pk)
        return render(request, self.template_name, {"entry": entry, "form": form}, status=400)
