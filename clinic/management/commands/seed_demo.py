"""manage.py seed_demo: the report's demo patients and weeks of traffic, for trying the site."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from clinic import demo


class Command(BaseCommand):
    help = (
        "Create the demo: Sarah Chen, Priya Sharma, Anita Reddy, an anonymous visitor and a few "
        "weeks of interactions, all through the real tracking and lead code; and an admin login. "
        "Does nothing if the demo is already there (use --reset to rebuild it)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="Delete the demo data and build it again.")
        parser.add_argument("--seed", type=int, default=2026, help="Random seed for the background traffic.")

    def handle(self, *args, reset: bool, seed: int, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo adds fake patients and an admin/admin login: not in production.")
        if reset:
            removed = demo.demo_remove()
            self.stdout.write(f"Removed {removed} demo rows.")
        if demo.demo_present():
            demo.demo_admin_ensure()
            self.stdout.write("Demo data is already there; nothing to do (use --reset to rebuild it).")
        else:
            summary = demo.demo_seed(seed=seed)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo created: {summary.sessions} visitor sessions, {summary.interactions} interactions, "
                    f"{summary.leads} leads."
                )
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Admin login (at /admin/): user: {demo.DEMO_ADMIN_USERNAME}  password: {demo.DEMO_ADMIN_PASSWORD}"
            )
        )
