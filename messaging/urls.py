from django.urls import path

import marketplace.converters  # noqa: F401  registers <id:…>
from messaging import views

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
]
