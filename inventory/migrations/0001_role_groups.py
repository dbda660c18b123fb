"""Create the staff role groups.

Lives in inventory, the lowest app, because every other app depends on it and
the roles are needed before any of their pages.
"""

from django.db import migrations

ROLE_GROUPS = ("warehouse", "customer_service", "purchasing")


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLE_GROUPS:
        Group.objects.get_or_create(name=name)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_groups, remove_groups)]
