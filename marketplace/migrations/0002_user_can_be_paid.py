from django.db import migrations, models


def initialise_from_stripe_accounts(apps, schema_editor):
    """Sellers whose Stripe account is ready (details submitted, charges and payouts
    enabled: the rule of `payments.selectors.READY`) start with the flag set."""
    User = apps.get_model("marketplace", "User")
    SellerStripeAccount = apps.get_model("payments", "SellerStripeAccount")
    ready = SellerStripeAccount.objects.filter(
        details_submitted=True, charges_enabled=True, payouts_enabled=True
    ).values("seller_id")
    User.objects.filter(pk__in=ready).update(can_be_paid=True)


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0001_initial"),
        ("payments", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="can_be_paid",
            field=models.BooleanField(
                default=False,
                help_text="Kept current by payments (its Stripe account is ready): paid "
                "listings of this seller can be bought. Read by catalog and checkout instead "
                "of payments.",
                verbose_name="can be paid",
            ),
        ),
        migrations.RunPython(initialise_from_stripe_accounts, migrations.RunPython.noop),
    ]
