"""Leave room in order line pages so promise updates are HOT (PostgreSQL).

A promise recompute rewrites the promised date of every line it moves; none of
those columns is indexed, so PostgreSQL can update the row in place on its own
page (a heap-only tuple) without touching the table's eight indexes, but only
when the page has room for the new version. At the default fillfactor (100)
every page is full and each update wrote all eight indexes: B3 spent 70 µs a
line in the UPDATE. At 70 nearly every such update is HOT and the UPDATE takes
half the time. Applies to pages written from now on; an existing table gets
it on its next rewrite (VACUUM FULL or pg_repack).
"""

from django.db import migrations

FILLFACTOR = 70


def set_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = apps.get_model("orders", "OrderLine")._meta.db_table
    schema_editor.execute(
        f"ALTER TABLE {schema_editor.quote_name(table)} SET (fillfactor = {FILLFACTOR})"
    )


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = apps.get_model("orders", "OrderLine")._meta.db_table
    schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name(table)} RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("orders", "0005_queue_global_index")]

    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor)]
