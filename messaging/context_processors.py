from messaging.selectors import notification_unread_count


def notifications(request):
    """`notification_unread_count` for the header bell: one indexed count for a
    signed-in user, no query for anonymous visitors. An int, so filters see a number."""
    user = getattr(request, "user", None)
    return {"notification_unread_count": notification_unread_count(user=user)}
