"""manage.py gdpr_erase: irreversibly anonymise a person everywhere (GDPR Art. 17)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from leads.gdpr import person_erase


class Command(BaseCommand):
    help = (
        "Erase the person with this e-mail address or phone number: contact details, notes, free text, "
        "face measures and visit details are removed; anonymous counts stay. Needs --yes (or --dry-run)."
    )

    def add_arguments(self, parser):
        parser.add_argument("identifier", help="The person's e-mail address or phone number (any format).")
        parser.add_argument("--dry-run", action="store_true", help="Say what would be erased, change nothing.")
        parser.add_argument("--yes", action="store_true", help="Confirm: erasure cannot be undone.")

    def handle(self, *args, identifier, dry_run, yes, **options):
        if not (dry_run or yes):
            raise CommandError("Erasure cannot be undone: add --yes to confirm, or --dry-run to see what it touches.")
        try:
            summary = person_erase(identifier=identifier, dry_run=dry_run, actor_label="manage.py gdpr_erase")
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        counts = (f"lead {summary.lead}, {summary.visits} visits, {summary.interactions} interactions, "
                  f"{summary.notes} notes, {summary.appointments} appointments")
        if dry_run:
            self.stdout.write(f"Dry run, nothing was changed: would erase {counts}.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Erased {counts}. Logged in the audit trail."))
