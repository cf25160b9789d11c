from django.urls import path

import marketplace.converters  # noqa: F401  registers <id:…>
from messaging import post_views as views

app_name = "messaging"

urlpatterns = [
    path("questions/<id:pk>/", views.QuestionDetailView.as_view(), name="question-detail"),
    path(
        "products/<id:product_pk>/questions/ask/",
        views.QuestionAskView.as_view(),
        name="question-ask",
    ),
    path("questions/<id:pk>/answer/", views.AnswerCreateView.as_view(), name="answer-create"),
    path("seller/questions/", views.SellerQuestionListView.as_view(), name="seller-question-list"),
    path("messages/", views.InboxView.as_view(), name="inbox"),
    path("messages/<id:pk>/", views.ThreadView.as_view(), name="thread"),
    path(
        "messages/<id:pk>/pictures/<id:message_pk>/",
        views.AttachmentView.as_view(),
        name="attachment",
    ),
    path(
        "messages/new/listing/<id:product_pk>/",
        views.StartListingView.as_view(),
        name="start-listing",
    ),
    path("messages/new/shop/<slug:slug>/", views.StartShopView.as_view(), name="start-shop"),
    path(
        "messages/new/order/<id:order_pk>/seller/<id:seller_pk>/",
        views.StartOrderBuyerView.as_view(),
        name="start-order",
    ),
    path(
        "messages/new/order/<id:order_pk>/buyer/",
        views.StartOrderSellerView.as_view(),
        name="start-order-buyer",
    ),
]
