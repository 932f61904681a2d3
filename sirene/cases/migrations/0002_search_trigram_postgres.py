"""Fast substring search on PostgreSQL: the tracking list's search is `subject ILIKE '%…%'` (Django's
icontains compiles to UPPER(...) LIKE UPPER(...)), which a trigram GIN index on UPPER(subject) serves.
SQLite has no equivalent and needs none at this size; the migration does nothing there."""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS case_subject_upper_trgm ON cases_case USING gin (UPPER(subject) gin_trgm_ops)"
    )
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS customer_email_upper_trgm ON cases_customer USING gin (UPPER(email) gin_trgm_ops)"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS case_subject_upper_trgm")
    schema_editor.execute("DROP INDEX IF EXISTS customer_email_upper_trgm")


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
