"""The first version of each legal document, in force from when this migration runs (so
accounts opened before it are asked once to accept the Terms and Privacy Policy). Later
versions are new rows written by staff in the admin."""

from django.db import migrations
from django.utils import timezone

TERMS = """These terms govern your use of Home Craft 3D, a marketplace where independent makers sell downloadable 3D print files and physical printed items. By creating an account or buying something, you agree to them.

## 1. Your account

You need a verified email address to buy as a registered user, to sell, to review or to message other members. Keep your password to yourself and turn on two-factor authentication if you can; you are responsible for what happens under your account. Guests may check out without an account and reach their order through a private link.

## 2. Buying

- Sellers, not Home Craft 3D, make and describe what they sell. Read the listing, its license and, for printed items, the shipping details before you buy.
- Payments are processed by Stripe. We never see or store your full card number.
- Digital files are available to download right after payment, through personal links that expire.

## 3. Licenses for digital files

Buying a file gives you the license shown on its listing (for example personal use only). It does not transfer copyright. Unless the license says so, you may not resell or redistribute the file or prints made from it.

## 4. Refunds

Refunds follow our Refund Policy, which states the refund window and the rule for files.

## 5. Things you must not do

Don't upload anything you don't have the rights to, anything illegal or dangerous (such as working weapon parts), or malware. Don't harass other members or try to take transactions off the platform. Our Content and IP Policy says how we handle reports; we may remove content and suspend accounts that break these rules, and we tell you why.

## 6. Liability

Printed objects are made by independent sellers and are not certified for safety-critical use. To the extent the law allows, Home Craft 3D is not liable for indirect losses arising from the use of files or items bought here.

## 7. Changes

When we change these terms we publish a new version with the date it takes effect, and ask you to accept it the next time you sign in.
"""

PRIVACY = """This policy explains what Home Craft 3D collects about you, why, and what you can do about it. We collect as little as we can to run a marketplace.

## What we collect

- **Account details:** your email address, the display name and full name you choose, an optional picture, and a hashed password.
- **Orders:** what you bought, amounts, and for printed items the shipping address you give us.
- **Payments:** handled by Stripe. We receive a payment reference, never your full card number.
- **Shop details** if you sell: shop name, description and picture (we strip location data from uploaded images).
- **Consent records:** which version of our terms you accepted, when, and from which IP address.
- **Technical data:** IP address and basic logs, kept briefly to keep the service secure and to stop abuse.

## Why we use it

To run your account, process orders and refunds, deliver downloads, pay sellers, prevent fraud, and send you emails you need (receipts, confirmations). We do not sell your data and we do not run advertising trackers.

## Who we share it with

Stripe (payments and seller payouts), our hosting and email providers, and, for printed items, the seller who needs your shipping address to send your order. Other members see only your display name.

## Your data, your choice

- **Change it:** your profile, email address (confirmed again by email), password and two-factor settings are on your account pages.
- **Take it with you:** ask for an export of your data on the "Your data" page. We build a ZIP file and email you a link that works for a short time, only while you are signed in.
- **Delete your account:** on the "Delete account" page, after confirming your password.

## What deleting your account does

- Erased: your name, display name, picture, email address (replaced by an anonymous placeholder), password, two-factor devices, saved items, notifications and data exports.
- Kept without your name: orders, payments, refunds, seller balances and tax records, because accounting and tax law require them; on your orders we erase your name, street address and phone and keep only the country, region and postal code (where the sale was taxed). Your reviews and messages stay, shown as "Deleted user". Records of the terms you accepted stay as proof of consent.
- Sellers: your listings are taken off the site and your shop is closed; people who bought your files keep their downloads.
- You must wait while something is still open: items you sold that are not yet delivered, money we still owe you or you owe us, open refund requests or card disputes, or a printed item you bought that has not arrived. The delete page lists exactly what is open.
"""

SELLER = """This agreement applies when you open a shop on Home Craft 3D, in addition to the Terms of Service.

## 1. What you may sell

Digital 3D print files you created or have the right to sell, and physical items you printed. Your listings must be accurate: photos of the real thing, honest print settings and materials, and a clear license for files.

## 2. Getting paid

- Payouts are made through Stripe Connect. You need to finish Stripe's onboarding before you can sell paid items.
- For each sale, Home Craft 3D keeps a marketplace fee, shown in your seller dashboard and fixed at the time of the order. The rest is transferred to your Stripe account.

## 3. Refunds and disputes

You agree to handle refund requests in good faith under the Refund Policy. If a refund or a card dispute is decided against a sale, the amount paid to you for that sale is reversed.

## 4. Physical items

Ship within the handling time you state, use tracked shipping where you can, and keep the buyer's address private.

## 5. Intellectual property

Sell only designs you have the rights to. When a rights holder sends us a notice about your listing we may take it down and tell you why; you can answer with a counter-notice. Repeat infringers lose their shop.
"""

REFUND = """Buyers can ask for a refund on an order line from their order page. Sellers look at requests first; our staff step in when buyer and seller cannot agree, and for card disputes.

A refund goes back to the card that paid. When a refund is approved, the seller's share of that sale is reversed from their balance.
"""

CONTENT = """## What may not be listed

Designs you do not have the rights to sell, working weapons or weapon parts, anything illegal where it would be shipped, malware, and misleading listings.

## Reporting a listing that copies your work

If you hold the rights to a design and a listing here copies it, send us a notice with the "Report an IP infringement" form (linked at the bottom of every page). Tell us who you are, which work is yours, where it is published, which listing infringes it, and confirm under penalty of perjury that the information is accurate and that you are the rights holder or act for them.

## What happens next

1. Our staff review the notice. If it is complete and credible, the listing is taken down and the seller receives a statement of reasons.
2. The seller can send a counter-notice, stating in good faith that the listing was removed by mistake, with their contact details. We forward it to the person who sent the notice.
3. Sellers with repeated upheld notices are flagged to our staff and may lose their shop.

## Other reports

Reviews, questions and messages can be reported from where they appear. Every staff decision comes with a statement of reasons that you can appeal once.
"""

DOCS = [
    ("TERMS", TERMS),
    ("PRIVACY", PRIVACY),
    ("SELLER_AGREEMENT", SELLER),
    ("REFUND_POLICY", REFUND),
    ("CONTENT_POLICY", CONTENT),
]


def seed(apps, schema_editor):
    LegalDocument = apps.get_model("marketplace", "LegalDocument")
    now = timezone.now()
    for kind, body in DOCS:
        if not LegalDocument.objects.filter(kind=kind).exists():
            LegalDocument.objects.create(
                kind=kind,
                version=1,
                effective_at=now,
                body=body.strip(),
                summary_of_changes="First version.",
            )


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0008_user_profile_fields_legal_documents")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
