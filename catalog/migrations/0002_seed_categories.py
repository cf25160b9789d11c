from django.db import migrations

from catalog.category_tree import ensure_category_tree


def seed(apps, schema_editor):
    ensure_category_tree(apps.get_model("catalog", "Category"))


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
