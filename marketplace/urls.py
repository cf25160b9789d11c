from django.urls import path
from django.views.generic import TemplateView

from marketplace import views

app_name = "marketplace"

urlpatterns = [
    path("seller/shop/new/", views.SellerProfileCreateView.as_view(), name="seller-profile-create"),
    path(
        "seller/shop/edit/", views.SellerProfileUpdateView.as_view(), name="seller-profile-update"
    ),
    path(
        "legal/terms/",
        TemplateView.as_view(template_name="marketplace/legal/terms.html"),
        name="legal-terms",
    ),
    path(
        "legal/privacy/",
        TemplateView.as_view(template_name="marketplace/legal/privacy.html"),
        name="legal-privacy",
    ),
    path(
        "legal/seller-agreement/",
        TemplateView.as_view(template_name="marketplace/legal/seller_agreement.html"),
        name="legal-seller-agreement",
    ),
]
