"""manage.py gdpr_export: everything held on a person, as one JSON file (GDPR Art. 15/20)."""

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from leads.gdpr import person_export


class Command(BaseCommand):
    help = "Write everything held on the person with this e-mail address or phone number as JSON."

    def add_arguments(self, parser):
        parser.add_argument("identifier", help="The person's e-mail address or phone number (any format).")
        parser.add_argument("--output", metavar="FILE", help="Write to FILE instead of standard output.")

    def handle(self, *args, identifier, output, **options):
        try:
            document = person_export(identifier=identifier, actor_label="manage.py gdpr_export")
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        text = json.dumps(document, indent=2, ensure_ascii=False)
        if output:
            try:
                Path(output).write_text(text + "\n", encoding="utf-8")
            except OSError as error:
                raise CommandError(f"Cannot write {output}: {error.strerror}.") from error
            self.stdout.write(self.style.SUCCESS(
                f"Exported lead {document['lead']['id']}: {len(document['interactions'])} interactions, "
                f"{len(document['visits'])} visits, {len(document['consents'])} consents to {output}."
            ))
        else:
            self.stdout.write(text)
