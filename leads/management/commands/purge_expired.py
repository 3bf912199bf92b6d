"""manage.py purge_expired: delete anonymous visitors kept longer than the retention period."""

from django.conf import settings
from django.core.management.base import BaseCommand

from leads.gdpr import purge_expired


class Command(BaseCommand):
    help = (
        f"Delete anonymous visitors (never leads) not seen for VISITOR_RETENTION_DAYS "
        f"({settings.VISITOR_RETENTION_DAYS}) days, with their interactions, and kept photos older than "
        f"PHOTO_RETENTION_DAYS ({settings.PHOTO_RETENTION_DAYS}). Run it daily."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count, delete nothing.")

    def handle(self, *args, dry_run, **options):
        summary = purge_expired(dry_run=dry_run, actor_label="manage.py purge_expired")
        counts = (f"{summary.sessions} anonymous visitors, {summary.interactions} interactions "
                  f"and {summary.photos} kept photos")
        if dry_run:
            self.stdout.write(f"Dry run, nothing was deleted: would delete {counts}.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Deleted {counts}."))
