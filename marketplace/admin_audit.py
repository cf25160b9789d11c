"""Admin edits of money or status go to the staff audit trail.

`AuditedAdminMixin` adds a required "Reason for this change" to an admin's change form
and, when the save changes one of `audit_fields`, writes one `StaffActionLog` row
("admin.change", before/after of the changed fields only) through
`marketplace.audit.staff_action`, in the same transaction as the save (the admin wraps
its views in one). Deleting an audited object is recorded too ("admin.delete").
"""

from django import forms
from django.db import models

from marketplace.audit import staff_action

REASON_FIELD = "audit_reason"


def _jsonable(value):
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, models.Model):
        return value.pk
    return str(value)


def audit_snapshot(obj: models.Model, names) -> dict:
    """The audited fields of `obj` as JSON-safe values (foreign keys as ids)."""
    values = {}
    for name in names:
        field = obj._meta.get_field(name)
        values[name] = _jsonable(getattr(obj, field.attname))
    return values


class AuditedAdminMixin:
    """Put it before `admin.ModelAdmin` (or its subclass) in the bases and name the
    fields whose changes are recorded in `audit_fields`."""

    audit_fields: tuple[str, ...] = ()

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            base = kwargs.get("form") or self.form
            kwargs["form"] = type(
                f"Audited{base.__name__}",
                (base,),
                {
                    REASON_FIELD: forms.CharField(
                        label="Reason for this change",
                        max_length=2000,
                        widget=forms.Textarea(attrs={"rows": 2}),
                        help_text="Recorded in the staff audit log with what changed.",
                    )
                },
            )
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (name, {**options, "fields": [f for f in options["fields"] if f != REASON_FIELD]})
            for name, options in super().get_fieldsets(request, obj)
        ]
        if obj is not None:
            fieldsets.append(("Audit", {"fields": [REASON_FIELD]}))
        return fieldsets

    def save_model(self, request, obj, form, change) -> None:
        before = after = {}
        if change:
            stored = type(obj)._default_manager.filter(pk=obj.pk).first()
            if stored is not None:
                before = audit_snapshot(stored, self.audit_fields)
        self.perform_save(request, obj, form, change)
        if change and before:
            obj.refresh_from_db()
            now = audit_snapshot(obj, self.audit_fields)
            changed = [name for name in self.audit_fields if before[name] != now[name]]
            if changed:
                after = {name: now[name] for name in changed}
                staff_action(
                    actor=request.user,
                    action="admin.change",
                    target=obj,
                    reason=form.cleaned_data.get(REASON_FIELD, ""),
                    before={name: before[name] for name in changed},
                    after=after,
                )

    def perform_save(self, request, obj, form, change) -> None:
        """The save itself; an admin that saves through a service overrides this (not
        `save_model`), so the audit still wraps it."""
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj) -> None:
        snapshot = audit_snapshot(obj, self.audit_fields)
        staff_action(
            actor=request.user,
            action="admin.delete",
            target=obj,
            reason="Deleted in the admin.",
            before=snapshot,
            after={},
        )
        super().delete_model(request, obj)
