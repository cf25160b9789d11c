"""Tracking links for well-known carriers: one function, `tracking_url`.

The seller picks a carrier from `CARRIERS` (or "Other") and types the tracking number;
buyers get a link to the carrier's own tracking page. Unknown carriers get no link,
only the number.
"""

from urllib.parse import quote

CARRIERS: dict[str, tuple[str, str]] = {
    # code: (name, URL with {n} for the URL-quoted tracking number)
    "usps": ("USPS", "https://tools.usps.com/go/TrackConfirmAction?tLabels={n}"),
    "ups": ("UPS", "https://www.ups.com/track?tracknum={n}"),
    "fedex": ("FedEx", "https://www.fedex.com/fedextrack/?trknbr={n}"),
    "dhl": (
        "DHL Express",
        "https://www.dhl.com/global-en/home/tracking/tracking-express.html?submit=1&tracking-id={n}",
    ),
    "canada_post": (
        "Canada Post",
        "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor={n}",
    ),
    "royal_mail": ("Royal Mail", "https://www.royalmail.com/track-your-item#/tracking-results/{n}"),
    "australia_post": ("Australia Post", "https://auspost.com.au/mypost/track/details/{n}"),
    "deutsche_post": (
        "Deutsche Post / DHL Paket",
        "https://www.dhl.de/en/privatkunden/pakete-empfangen/verfolgen.html?piececode={n}",
    ),
}
OTHER = "other"
CARRIER_CHOICES = [(code, name) for code, (name, _) in CARRIERS.items()] + [(OTHER, "Other")]


def carrier_name(carrier: str) -> str:
    """The display name of a stored carrier (a code from CARRIERS, or free text)."""
    return CARRIERS[carrier][0] if carrier in CARRIERS else carrier


def tracking_url(carrier: str, tracking_number: str) -> str:
    """The carrier's tracking page for this number, or "" (unknown carrier, no number)."""
    number = (tracking_number or "").strip()
    if not number or carrier not in CARRIERS:
        return ""
    return CARRIERS[carrier][1].format(n=quote(number, safe=""))
