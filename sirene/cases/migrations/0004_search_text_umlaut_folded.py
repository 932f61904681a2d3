"""Search by customer name and e-mail with umlauts: a folded search key on customers (name + e-mail) and
cases (subject), filled for existing rows here and on every save afterwards (cases/search.py). On
PostgreSQL a trigram GIN index serves the `LIKE '%term%'` on each key; SQLite scans, fast at this size."""

from django.db import migrations, models


def fill(apps, schema_editor):
    from sirene.cases.search import search_key

    Customer = apps.get_model("cases", "Customer")
    Case = apps.get_model("cases", "Case")
    batch = []
    for customer in Customer.objects.only("pk", "name", "email").iterator(chunk_size=2000):
        customer.search_text = search_key(customer.name, customer.email)
        batch.append(customer)
        if len(batch) >= 2000:
            Customer.objects.bulk_update(batch, ["search_text"])
            batch = []
    Customer.objects.bulk_update(batch, ["search_text"])
    batch = []
    for case in Case.objects.only("pk", "subject").iterator(chunk_size=2000):
        case.search_text = search_key(case.subject)
        batch.append(case)
        if len(batch) >= 2000:
            Case.objects.bulk_update(batch, ["search_text"])
            batch = []
    Case.objects.bulk_update(batch, ["search_text"])


def index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS case_search_text_trgm ON cases_case USING gin (search_text gin_trgm_ops)"
    )
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS customer_search_text_trgm ON cases_customer "
        "USING gin (search_text gin_trgm_ops)"
    )


def unindex(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS case_search_text_trgm")
    schema_editor.execute("DROP INDEX IF EXISTS customer_search_text_trgm")


class Migration(migrations.Migration):
    dependencies = [("cases", "0003_analysis_retry_state")]
    operations = [
        migrations.AddField(
            model_name="customer",
            name="search_text",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.AddField(
            model_name="case",
            name="search_text",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.RunPython(index, unindex),
    ]
