from django.urls import path

from marketplace import views, views_account
from marketplace.models import LegalDocument

app_name = "marketplace"

Kind = LegalDocument.Kind

urlpatterns = [
    path("seller/shop/new/", views.SellerProfileCreateView.as_view(), name="seller-profile-create"),
    path(
        "seller/shop/edit/", views.SellerProfileUpdateView.as_view(), name="seller-profile-update"
    ),
    path("accounts/profile/", views_account.ProfileView.as_view(), name="profile"),
    # Legal documents: anyone; always the version in force.
    path(
        "legal/terms/",
        views_account.LegalDocumentView.as_view(kind=Kind.TERMS),
        name="legal-terms",
    ),
    path(
        "legal/privacy/",
        views_account.LegalDocumentView.as_view(kind=Kind.PRIVACY),
        name="legal-privacy",
    ),
    path(
        "legal/seller-agreement/",
        views_account.LegalDocumentView.as_view(kind=Kind.SELLER_AGREEMENT),
        name="legal-seller-agreement",
    ),
    path(
        "legal/refund-policy/",
        views_account.LegalDocumentView.as_view(kind=Kind.REFUND_POLICY),
        name="legal-refund-policy",
    ),
    path(
        "legal/content-policy/",
        views_account.LegalDocumentView.as_view(kind=Kind.CONTENT_POLICY),
        name="legal-content-policy",
    ),
    path("legal/accept/", views_account.LegalAcceptView.as_view(), name="legal-accept"),
]
