"""Who tries each refund page: the roles of the permission matrix."""

ROLES = [
    "anonymous",
    "guest",
    "wrong_token",
    "buyer",
    "other_buyer",
    "seller",
    "other_seller",
    "staff",
]
WRONG_TOKEN = "w" * 43


def as_role(client, w, role: str) -> str:
    """Log `client` in as `role`; returns the query string a token holder adds."""
    user = {
        "buyer": w.buyer,
        "other_buyer": w.other_buyer,
        "seller": w.seller,
        "other_seller": w.other_seller,
        "staff": w.staff,
    }.get(role)
    if user is not None:
        client.force_login(user)
    if role == "guest":
        return f"?t={w.order.access_token}"
    if role == "wrong_token":
        return f"?t={WRONG_TOKEN}"
    return ""
