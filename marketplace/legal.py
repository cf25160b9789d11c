"""Legal documents as data: which version is in force, who accepted what, and the facts
the texts state that code also enforces (refund rules, cookies).

- `legal_document_current(kind)`: the latest version whose `effective_at` has passed.
- `legal_accept(...)`: records acceptances (signup, seller onboarding, guest checkout,
  re-acceptance), once per person and version.
- `legal_pending_for_user(user)`: the versions in force a signed-in user has not accepted
  yet (read by `LegalConsentMiddleware`, which asks them once).
- `COOKIES`: every cookie the site sets. The Privacy Policy lists this table and a test
  drives a full buyer journey and fails on any cookie not in it.
"""

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from marketplace.models import LegalAcceptance, LegalDocument, User
from marketplace.selectors import seller_profile_for_user

Kind = LegalDocument.Kind

# (name, purpose, lifetime) — names must match settings (SESSION_COOKIE_NAME,
# CSRF_COOKIE_NAME). The cart lives in the session, so it has no cookie of its own.
COOKIES: list[tuple[str, str, str]] = [
    (
        "sessionid",
        "Keeps you signed in, and holds your cart and guest order links while you shop.",
        "Two weeks, or until you log out.",
    ),
    ("csrftoken", "Protects the forms you send from being forged by other sites.", "One year."),
]
COOKIE_NAMES = frozenset(name for name, _purpose, _lifetime in COOKIES)

# What every account accepts at signup, and a seller in addition.
ACCOUNT_KINDS = (Kind.TERMS, Kind.PRIVACY)
SELLER_KINDS = (Kind.SELLER_AGREEMENT,)
CURRENT_CACHE_KEY = "marketplace:legal:current:v1"
CURRENT_CACHE_SECONDS = 60


def legal_document_current(kind: str) -> LegalDocument | None:
    """The version of `kind` in force now: the highest version whose `effective_at` has
    passed."""
    return (
        LegalDocument.objects.filter(kind=kind, effective_at__lte=timezone.now())
        .order_by("-version")
        .first()
    )


def legal_current() -> dict[str, tuple[int, float]]:
    """{kind: (id, effective_at as a timestamp) of the version in force}, cached briefly
    (a new version is noticed within a minute of its `effective_at`)."""
    current = cache.get(CURRENT_CACHE_KEY)
    if current is None:
        current = {}
        for doc in LegalDocument.objects.filter(effective_at__lte=timezone.now()).order_by(
            "kind", "version"
        ):
            current[doc.kind] = (doc.pk, doc.effective_at.timestamp())  # the last one wins
        cache.set(CURRENT_CACHE_KEY, current, CURRENT_CACHE_SECONDS)
    return current


def legal_cache_clear() -> None:
    cache.delete(CURRENT_CACHE_KEY)


def legal_pending_ids(user: User) -> list[int]:
    """Ids of the versions in force `user` still has to accept: Terms and Privacy for
    everyone, the Seller Agreement for sellers — each only when it took effect after the
    account was opened (signup and shop onboarding record acceptance of the version in force
    then, so a newer version is what needs asking). No query when nothing is newer than the
    account."""
    current = legal_current()
    joined = user.date_joined.timestamp()
    newer = {kind: pk for kind, (pk, effective) in current.items() if effective > joined}
    if not newer:
        return []
    wanted = [newer[k] for k in ACCOUNT_KINDS if k in newer]
    if any(k in newer for k in SELLER_KINDS) and seller_profile_for_user(user) is not None:
        wanted += [newer[k] for k in SELLER_KINDS if k in newer]
    if not wanted:
        return []
    accepted = set(
        LegalAcceptance.objects.filter(user=user, document_id__in=wanted).values_list(
            "document_id", flat=True
        )
    )
    return [pk for pk in wanted if pk not in accepted]


def legal_pending_for_user(user: User) -> list[LegalDocument]:
    """The documents of `legal_pending_ids`, to show."""
    missing = legal_pending_ids(user)
    if not missing:
        return []
    return list(LegalDocument.objects.filter(pk__in=missing).order_by("kind"))


def legal_accept(
    *,
    kinds: tuple[str, ...] | list[str] | None = None,
    documents: list[LegalDocument] | None = None,
    user: User | None = None,
    order_id: int | None = None,
    ip: str | None = None,
) -> list[LegalAcceptance]:
    """Record that `user` (or the guest who placed order `order_id`) accepted the versions
    in force of `kinds` (or exactly `documents`). Idempotent: a version already accepted
    is not recorded twice. Kinds with no version in force are skipped."""
    if user is None and order_id is None:
        raise ValueError("An acceptance needs a user or an order.")
    if documents is None:
        documents = [d for d in (legal_document_current(k) for k in kinds or ()) if d]
    rows = []
    for document in documents:
        try:
            with transaction.atomic():
                rows.append(
                    LegalAcceptance.objects.create(
                        user=user, order_id=order_id, document=document, ip=ip or None
                    )
                )
        except IntegrityError:  # already accepted (a double submit)
            continue
    return rows


def consent_ip(request) -> str | None:
    """The client's address recorded with a consent (the trusted-proxy rule of
    `marketplace.http.client_ip`), or None when unknown."""
    from marketplace.http import client_ip

    return client_ip(request) or None


URL_NAMES = {
    Kind.TERMS: "marketplace:legal-terms",
    Kind.PRIVACY: "marketplace:legal-privacy",
    Kind.SELLER_AGREEMENT: "marketplace:legal-seller-agreement",
    Kind.REFUND_POLICY: "marketplace:legal-refund-policy",
    Kind.CONTENT_POLICY: "marketplace:legal-content-policy",
}
