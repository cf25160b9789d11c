"""Every staff action lands in StaffActionLog: admin edits with a reason, take-downs,
the log's append-only rule, and the staff page that reads it."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import Product
from marketplace import audit
from marketplace.models import SiteConfig
from marketplace.selectors import site_config_get
from messaging.models import Notification
from moderation.models import AppendOnlyError, StaffActionLog
from tests.factories import UserFactory
from tests.moderation.helpers import public_product

pytestmark = pytest.mark.django_db


def _superuser(client):
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    return admin_user


def _product_form(product, **changes) -> dict:
    data = {
        "title": product.title,
        "description": product.description,
        "category": product.category_id,
        "license": product.license,
        "is_taken_down": "",
        "takedown_reason": "",
        "stock_quantity": product.stock_quantity,
        "tags": [],
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_an_admin_edit_needs_a_reason_and_records_what_changed(client):
    # given
    product = public_product(title="Old title")
    staff = _superuser(client)
    url = reverse("admin:catalog_product_change", args=[product.pk])
    page = client.get(url)
    assert page.status_code == 200 and "Reason for this change" in page.content.decode()
    form = _product_form(product, title="New title")
    # The inlines (images, files) are posted back as they are.
    for inline in page.context["inline_admin_formsets"]:
        prefix = inline.formset.prefix
        form[f"{prefix}-TOTAL_FORMS"] = inline.formset.total_form_count()
        form[f"{prefix}-INITIAL_FORMS"] = inline.formset.initial_form_count()
        for i, sub in enumerate(inline.formset.forms):
            for name, field in sub.fields.items():
                value = sub.initial.get(name, field.initial)
                if value is not None and not isinstance(value, bool | list):
                    form[f"{prefix}-{i}-{name}"] = getattr(value, "pk", value)
    # when: no reason
    refused = client.post(url, form)
    # then: the form says so and nothing changed
    assert refused.status_code == 200
    assert "audit_reason" in refused.context["adminform"].form.errors
    assert Product.objects.get(pk=product.pk).title == "Old title"
    # when: with a reason
    done = client.post(url, {**form, "audit_reason": "Trademark in the title"})
    # then
    assert done.status_code == 302, done.context["adminform"].form.errors
    assert Product.objects.get(pk=product.pk).title == "New title"
    entry = StaffActionLog.objects.get(action="admin.change")
    assert (entry.actor, entry.target_type, entry.target_id, entry.reason) == (
        staff,
        "catalog.product",
        str(product.pk),
        "Trademark in the title",
    )
    assert (entry.before, entry.after) == ({"title": "Old title"}, {"title": "New title"})


def test_an_admin_edit_of_a_users_staff_flag_is_audited(client):
    user = UserFactory(email="helper@example.com")
    _superuser(client)
    url = reverse("admin:marketplace_user_change", args=[user.pk])
    data = {
        "email": user.email,
        "name": user.name,
        "is_active": "on",
        "is_staff": "on",
        "audit_reason": "Joins the support team",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    entry = StaffActionLog.objects.get(action="admin.change")
    assert (entry.before, entry.after) == ({"is_staff": False}, {"is_staff": True})


def test_a_fee_change_in_the_admin_is_audited(client):
    config = site_config_get()
    _superuser(client)
    url = reverse("admin:marketplace_siteconfig_change", args=[config.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form.initial.get(name) for name in form.fields if name != "audit_reason"}
    data = {
        k: ("on" if v is True else v) for k, v in data.items() if v is not None and v is not False
    }
    data.update({"fee_bps": config.fee_bps + 50, "audit_reason": "New pricing"})
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    entry = StaffActionLog.objects.get(action="admin.change")
    assert entry.target_type == "marketplace.siteconfig"
    assert entry.after == {"fee_bps": config.fee_bps + 50}
    assert SiteConfig.objects.get().fee_bps == config.fee_bps + 50


def test_a_take_down_from_the_admin_is_audited_and_the_seller_told(client):
    product = public_product()
    staff = _superuser(client)
    client.post(
        "/admin/catalog/product/",
        {
            "action": "take_down",
            "_selected_action": [product.pk],
            "apply": "1",
            "reason": "Counterfeit brand",
        },
    )
    entry = StaffActionLog.objects.get(action="listing.take_down")
    assert (entry.actor, entry.subject_user, entry.reason) == (
        staff,
        product.seller,
        "Counterfeit brand",
    )
    assert Notification.objects.get(user=product.seller).staff_action_id == entry.pk


def test_the_audit_log_is_append_only():
    user = UserFactory()
    entry = audit.staff_action(
        actor=UserFactory(is_staff=True), action="x.y", target=user, reason="r"
    )
    entry.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        StaffActionLog.objects.filter(pk=entry.pk).update(reason="rewritten")
    with pytest.raises(AppendOnlyError):
        StaffActionLog.objects.all().delete()
    assert StaffActionLog.objects.get().reason == "r"
    # what may change: the appeal stamp, and a deleted account's link going empty
    StaffActionLog.objects.filter(pk=entry.pk).update(appealed_at=timezone.now())
    entry.actor.delete()
    assert StaffActionLog.objects.get().actor is None


def test_the_audit_log_page_filters_and_searches(client):
    alice = UserFactory(is_staff=True, email="alice@staff.example")
    bob = UserFactory(is_staff=True, email="bob@staff.example")
    target = UserFactory()
    audit.staff_action(actor=alice, action="user.suspend", target=target, reason="Spam ring")
    audit.staff_action(actor=bob, action="refund.approve", target=target, reason="Broken part")
    client.force_login(alice)
    url = reverse("moderation:staff-audit-log")
    everything = client.get(url).content.decode()
    assert everything.index("refund.approve") < everything.index("user.suspend")  # newest first
    assert "Broken part" not in client.get(url + "?actor=alice").content.decode()
    assert "Spam ring" not in client.get(url + "?action=refund.").content.decode()
    assert "Spam ring" in client.get(url + "?q=spam").content.decode()
    assert "Broken part" not in client.get(url + "?q=spam").content.decode()
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert "Spam ring" not in client.get(url + f"?date_from={tomorrow}").content.decode()
    assert client.get(url + f"?date_from={tomorrow}&date_to=2020-01-01").status_code == 400
    assert client.get(url + "?date_from=not-a-date").status_code == 400


def test_postgresql_refuses_raw_edits_of_the_audit_log():
    from django.db import DatabaseError, connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("the trigger is PostgreSQL's")
    entry = audit.staff_action(actor=None, action="x.y", target=UserFactory(), reason="kept")
    for sql in (
        "UPDATE moderation_staffactionlog SET reason = 'rewritten' WHERE id = %s",
        "DELETE FROM moderation_staffactionlog WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [entry.pk])
    with connection.cursor() as cursor:  # the appeal stamp may be set, once
        cursor.execute(
            "UPDATE moderation_staffactionlog SET appealed_at = now() WHERE id = %s", [entry.pk]
        )
    assert StaffActionLog.objects.get().reason == "kept"


def test_the_take_down_box_of_the_admin_form_goes_through_the_service(client):
    from tests.catalog.test_views import _admin_change_data

    product = public_product()
    staff = _superuser(client)
    data = _admin_change_data(staff, product)
    data |= {"is_taken_down": "on", "takedown_reason": "Copied design", "audit_reason": "Report"}
    url = reverse("admin:catalog_product_change", args=[product.pk])
    assert client.post(url, data).status_code == 302
    product.refresh_from_db()
    assert product.is_taken_down and product.takedown_reason == "Copied design"
    entry = StaffActionLog.objects.get()
    assert (entry.action, entry.subject_user, entry.reason) == (
        "listing.take_down",
        product.seller,
        "Copied design",
    )
    # and back up, with the edit's reason
    data = _admin_change_data(staff, product)
    data |= {"is_taken_down": "", "audit_reason": "Licence shown"}
    data.pop("is_taken_down")
    assert client.post(url, data).status_code == 302
    product.refresh_from_db()
    assert product.is_taken_down is False
    assert StaffActionLog.objects.filter(action="listing.restore", reason="Licence shown").exists()
