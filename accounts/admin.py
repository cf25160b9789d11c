from django.contrib import admin

from accounts.models import AccountDeletion, DataExport


@admin.register(AccountDeletion)
class AccountDeletionAdmin(admin.ModelAdmin):
    """The audit trail of self-service deletions: read-only."""

    list_display = ["user", "deleted_at", "was_seller", "listings_taken_down"]
    readonly_fields = [f.name for f in AccountDeletion._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(DataExport)
class DataExportAdmin(admin.ModelAdmin):
    list_display = ["user", "status", "created_at", "ready_at", "expires_at", "size_bytes"]
    list_filter = ["status"]
    exclude = ["token"]
    readonly_fields = [
        "user",
        "status",
        "file_name",
        "size_bytes",
        "error",
        "ready_at",
        "expires_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False
