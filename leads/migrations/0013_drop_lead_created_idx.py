"""Drop lead_created_idx: lead_created_figures_idx starts with created_at and serves
every query that used it (the lead list and API ordered by -created_at, created_at
ranges, the date hierarchy), and each lead written paid for one index entry more."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0012_rollup_score_total'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='lead',
            name='lead_created_idx',
        ),
    ]
