from django.urls import path

import marketplace.converters  # noqa: F401  registers <id:…>
from messaging import post_views, views

app_name = "messaging"

urlpatterns = [
    # Signed-in users: their own notifications and email choices.
    path("notifications/", views.NotificationListView.as_view(), name="notification-list"),
    path(
        "notifications/<id:pk>/open/",
        views.NotificationOpenView.as_view(),
        name="notification-open",
    ),
    path(
        "notifications/read-all/",
        views.NotificationReadAllView.as_view(),
        name="notification-read-all",
    ),
    path(
        "notifications/preferences/",
        views.NotificationPreferencesView.as_view(),
        name="preferences",
    ),
    # Staff: the email log.
    path("staff/emails/", views.StaffEmailListView.as_view(), name="staff-emails"),
    path(
        "staff/emails/<id:pk>/retry/",
        views.StaffEmailRetryView.as_view(),
        name="staff-email-retry",
    ),
    path("questions/<id:pk>/", post_views.QuestionDetailView.as_view(), name="question-detail"),
    path(
        "products/<id:product_pk>/questions/ask/",
        post_views.QuestionAskView.as_view(),
        name="question-ask",
    ),
    path("questions/<id:pk>/answer/", post_views.AnswerCreateView.as_view(), name="answer-create"),
    path(
        "seller/questions/",
        post_views.SellerQuestionListView.as_view(),
        name="seller-question-list",
    ),
    path("messages/", post_views.InboxView.as_view(), name="inbox"),
    path("messages/<id:pk>/", post_views.ThreadView.as_view(), name="thread"),
    path(
        "messages/<id:pk>/pictures/<id:message_pk>/",
        post_views.AttachmentView.as_view(),
        name="attachment",
    ),
    path(
        "messages/new/listing/<id:product_pk>/",
        post_views.StartListingView.as_view(),
        name="start-listing",
    ),
    path("messages/new/shop/<slug:slug>/", post_views.StartShopView.as_view(), name="start-shop"),
    path(
        "messages/new/order/<id:order_pk>/seller/<id:seller_pk>/",
        post_views.StartOrderBuyerView.as_view(),
        name="start-order",
    ),
    path(
        "messages/new/order/<id:order_pk>/buyer/",
        post_views.StartOrderSellerView.as_view(),
        name="start-order-buyer",
    ),
]
