"""The encoder's name stored with each embedding (detection compares only vectors of one encoder).

Existing embeddings were all made by the encoder sirene has shipped as its default so far."""

from django.db import migrations, models

SHIPPED_ENCODER = "use-multilingual-v3-centered"


def stamp(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    Case.objects.filter(embedding__isnull=False, encoder="").update(encoder=SHIPPED_ENCODER)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0005_untracked_reports_for_the_audit"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="encoder",
            field=models.CharField(blank=True, default="", editable=False, max_length=100),
        ),
        migrations.RunPython(stamp, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(("embedding__isnull", False)),
                fields=["encoder", "received_at"],
                name="case_embedded_encoder_received",
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["analysed_at"], name="case_analysed_at"),
        ),
    ]
