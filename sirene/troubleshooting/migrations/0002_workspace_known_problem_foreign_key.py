"""Workspace.known_problem becomes a real foreign key (SET_NULL): ids of known problems that still exist are
kept, dangling ids (their known problem was deleted) become NULL first, so the constraint can be added."""

from django.db import migrations, models
import django.db.models.deletion


def null_dangling_known_problem_ids(apps, schema_editor):
    Workspace = apps.get_model("troubleshooting", "Workspace")
    KnownProblem = apps.get_model("knowledge", "KnownProblem")
    Workspace.objects.filter(known_problem_id__isnull=False).exclude(
        known_problem_id__in=KnownProblem.objects.values("pk")
    ).update(known_problem_id=None)


class Migration(migrations.Migration):

    dependencies = [
        ("knowledge", "0001_initial"),
        ("troubleshooting", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(null_dangling_known_problem_ids, migrations.RunPython.noop),
        # The integer column keeps its name: the field is renamed, then altered into the foreign key
        # (whose column is known_problem_id again), so every kept id stays in place.
        migrations.RenameField("workspace", "known_problem_id", "known_problem"),
        migrations.AlterField(
            model_name="workspace",
            name="known_problem",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="workspaces",
                to="knowledge.knownproblem",
            ),
        ),
    ]
