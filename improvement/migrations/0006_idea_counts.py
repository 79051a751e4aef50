"""Each idea keeps its number of supporters and of comments (hidden ones left out), filled
here from the rows, so the ideas list shows and sorts by them without counting every idea."""

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


class Migration(migrations.Migration):
    dependencies = [
        ("improvement", "0005_value_limits"),
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
                fields=["community", "-created_at", "-id"], name="improvement_idea_newest"
            ),
        ),
        migrations.AddIndex(
            model_name="idea",
            index=models.Index(
                fields=["community", "-support_count", "-created_at", "-id"],
                name="improvement_idea_supported",
            ),
        ),
    ]
