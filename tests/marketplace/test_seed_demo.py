import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command

from analytics.management.commands.seed_demo import DEMO_PASSWORD
from marketplace.models import SellerProfile, User

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_its_printed_logins_work(client, capsys):
    # when it runs twice
    call_command("seed_demo")
    call_command("seed_demo")
    # then there is one of each account, all verified, four shops, one staff
    assert User.objects.count() == 8
    assert SellerProfile.objects.count() == 4
    assert User.objects.filter(is_staff=True).count() == 1
    assert EmailAddress.objects.filter(verified=True).count() == 8
    # and the printed logins work
    out = capsys.readouterr().out
    assert DEMO_PASSWORD in out
    assert "staff@demo.homecraft3d.test" in out
    assert client.login(email="buyer@demo.homecraft3d.test", password=DEMO_PASSWORD)
