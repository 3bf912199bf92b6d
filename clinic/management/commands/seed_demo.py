"""manage.py seed_demo: the report's demo patients and weeks of traffic, for trying the site;
with --history, also a year of synthetic history with known outcomes."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from clinic import demo
from leads import synthetic
from leads.outcomes import outcome_labels


class Command(BaseCommand):
    help = (
        "Create the demo: Sarah Chen, Priya Sharma, Anita Reddy, an anonymous visitor and a few "
        "weeks of interactions, all through the real tracking and lead code; and an admin login. "
        "Does nothing if the demo is already there (use --reset to rebuild it). With --history, "
        "also a year of synthetic visitors and leads with outcomes whose true conversion mechanism "
        "is known (leads/synthetic.py), imported through the real import path."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="Delete the demo data and build it again.")
        parser.add_argument("--seed", type=int, default=2026, help="Random seed for the background traffic.")
        parser.add_argument("--history", action="store_true",
                            help="Also make the synthetic history (with --reset: delete it and make it again).")
        parser.add_argument("--history-visitors", type=int, default=demo.HISTORY_VISITORS,
                            help=f"Visitors in the synthetic history (default {demo.HISTORY_VISITORS}).")

    def handle(self, *args, reset: bool, seed: int, history: bool, history_visitors: int, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo adds fake patients and an admin/admin login: not in production.")
        if history_visitors < 1:
            raise CommandError("--history-visitors must be 1 or more.")
        if reset:
            removed = demo.demo_remove()
            self.stdout.write(f"Removed {removed} demo rows.")
            if history:
                self.stdout.write(f"Removed {synthetic.history_remove()} synthetic history visitors.")
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
        if history:
            self._history(seed=seed, visitors=history_visitors)
        self.stdout.write(
            self.style.SUCCESS(
                f"Admin login (at /admin/): user: {demo.DEMO_ADMIN_USERNAME}  password: {demo.DEMO_ADMIN_PASSWORD}"
            )
        )

    def _history(self, *, seed: int, visitors: int) -> None:
        if synthetic.history_present():
            self.stdout.write(
                "Synthetic history is already there; nothing to do (use --reset --history to rebuild it)."
            )
            return
        started = time.monotonic()
        made = demo.demo_history_seed(seed=seed, visitors=visitors)
        if made.rejected:
            raise CommandError(f"The importer refused {made.rejected} synthetic rows, e.g. {made.rejections[0]}.")
        labelled = outcome_labels(as_of=timezone.now(), stale_after_days=settings.LEAD_STALE_AFTER_DAYS)
        self.stdout.write(
            self.style.SUCCESS(
                f"Synthetic history created in {time.monotonic() - started:.0f} s: {made.visitors} visitors, "
                f"{made.interactions} interactions, {made.leads} leads ({made.converted} booked, {made.lost} lost, "
                f"{made.open} open); {len(labelled)} leads in all have a known outcome "
                f"(open ones count as lost after {settings.LEAD_STALE_AFTER_DAYS} days)."
            )
        )
