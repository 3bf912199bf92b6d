"""manage.py scoring_rules export [FILE] | load FILE: the scoring rules as a JSON file."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import pluralize

from scoring import portability


class Command(BaseCommand):
    help = (
        "Export the scoring rules and settings as one JSON document (to keep under version control), "
        "or load such a document: every rule is checked first, then all are applied or none."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="{export,load}")
        export = actions.add_parser(
            "export", help="Write the rules and settings as JSON (to standard output without FILE)."
        )
        export.add_argument("file", nargs="?", help="Where to write the JSON document.")
        load = actions.add_parser(
            "load", help="Create or update rules (matched by name) and settings from a JSON document."
        )
        load.add_argument("file", help="The JSON document to load.")
        load.add_argument(
            "--replace", action="store_true",
            help="Also deactivate (never delete) the active rules the file does not name.",
        )
        load.add_argument("--dry-run", action="store_true", help="Show what would change, save nothing.")

    def handle(self, *args, action, file=None, **options):
        if action == "export":
            self.export(file)
        else:
            self.load(file, replace=options["replace"], dry_run=options["dry_run"])

    def export(self, file: str | None) -> None:
        document = portability.scoring_rules_export()
        text = portability.scoring_rules_dumps(document)
        if file is None:
            self.stdout.write(text, ending="")
            return
        try:
            Path(file).write_text(text, encoding="utf-8")
        except OSError as error:
            raise CommandError(f"Cannot write {file}: {error.strerror or error}.") from error
        self.stdout.write(self.style.SUCCESS(f"Exported {len(document['rules'])} rules and the settings to {file}."))

    def load(self, file: str, *, replace: bool, dry_run: bool) -> None:
        try:
            text = Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {file}: {getattr(error, 'strerror', None) or error}.") from error
        try:
            summary = portability.scoring_rules_load(
                document=portability.scoring_rules_parse(text), replace=replace, dry_run=dry_run
            )
        except portability.RulesDocumentError as error:
            for problem in error.problems:
                self.stderr.write(problem)
            count = len(error.problems)
            raise CommandError(
                f"{file} was not loaded ({count} problem{pluralize(count)}); nothing was changed."
            ) from error

        for name in summary.created:
            self.stdout.write(f"create {name!r}")
        for change in summary.updated:
            self.stdout.write(f"update {change.name!r}: {'; '.join(change.changes)}")
        for name in summary.deactivated:
            self.stdout.write(f"deactivate {name!r}")
        if summary.settings_changes:
            self.stdout.write(f"settings: {'; '.join(summary.settings_changes)}")
        if dry_run:
            self.stdout.write(
                self.style.WARNING(
                    f"Dry run, nothing was saved: {len(summary.created)} to create, {len(summary.updated)} to update, "
                    f"{len(summary.deactivated)} to deactivate, {len(summary.unchanged)} unchanged; "
                    f"settings {'to change' if summary.settings_changes else 'unchanged'}."
                )
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {file}: {len(summary.created)} created, {len(summary.updated)} updated, "
                f"{len(summary.deactivated)} deactivated, {len(summary.unchanged)} unchanged; "
                f"settings {'changed' if summary.settings_changes else 'unchanged'}."
            )
        )
        if summary.changed:
            self.stdout.write("Stored scores keep the old rules until you run: manage.py rescore_leads")
