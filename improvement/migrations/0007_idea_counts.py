"""Each idea keeps its number of supporters and of comments (hidden ones left out), filled
here from the rows, so the ideas list shows and sorts by them without counting every idea;
and the list's three orders are read from indexes."""

from django.db import migrations, models
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce


def _count_of(model, **conditions):
    rows = (
        model.objects.filter(idea=OuterRef("pk"), **conditions)
        .order_by()
        .values("idea")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=models.IntegerField()), 0)


def fill_counts(apps, schema_editor):
    Idea = apps.get_model("improvement", "Idea")
    Support = apps.get_model("improvement", "Support")
    Comment = apps.get_model("improvement", "Comment")
    Idea.objects.update(
        support_count=_count_of(Support),
        comment_count=_count_of(Comment, hidden_at__isnull=True),
    )


# "Recently decided first" puts ideas never decided last. SQLite refuses NULLS LAST in an
# index, so this one is made on PostgreSQL only, and is not in the model's Meta.
DECIDED_INDEX = "improvement_idea_decided"


def add_decided_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX {DECIDED_INDEX} ON improvement_idea "
            "(community_id, decided_at DESC NULLS LAST, created_at DESC, id DESC, status)"
        )


def drop_decided_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {DECIDED_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("improvement", "0006_chart_rows_updated_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="idea",
            name="comment_count",
            field=models.PositiveIntegerField(default=0, editable=False, verbose_name="comments"),
        ),
        migrations.AddField(
            model_name="idea",
            name="support_count",
            field=models.PositiveIntegerField(
                default=0, editable=False, verbose_name="supporters"
            ),
        ),
        migrations.RunPython(fill_counts, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="idea",
            index=models.Index(
                fields=["community", "-created_at", "-id", "status"],
                name="improvement_idea_newest",
            ),
        ),
        migrations.AddIndex(
            model_name="idea",
            index=models.Index(
                fields=["community", "-support_count", "-created_at", "-id", "status"],
                name="improvement_idea_supported",
            ),
        ),
        migrations.RunPython(add_decided_index, drop_decided_index, elidable=False),
    ]
