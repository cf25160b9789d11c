from django.utils.functional import SimpleLazyObject

from messaging.post_selectors import unread_thread_count


def inbox(request):
    """The header's Inbox badge: threads with unread messages. Lazy and one query, only
    for a signed-in user (visitors never pay for it)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"inbox_unread": 0}
    return {"inbox_unread": SimpleLazyObject(lambda: unread_thread_count(user=user))}
