"""manage.py calibrate_rules: propose rule points from the leads' outcomes; accept one."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.commands import as_of_option

from leads.calibration import calibration_accept, calibration_run, calibration_table
from leads.models import RuleCalibration


class Command(BaseCommand):
    requires_system_checks = []
    help = (
        "Measure each scoring rule's lift over the leads with a known outcome, propose points for "
        "each (a regularised logistic regression, scaled to 0-100), and compare them with the current "
        "points on the newer half of those leads. Nothing changes until a proposal is accepted "
        "(--accept ID, or the lead-scoring page)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--as-of", metavar="DATE", help="Use the outcomes known at the end of this day.")
        parser.add_argument("--stale-after-days", type=int, metavar="N",
                            help="An open lead older than this counts as not converted "
                                 "(default: LEAD_STALE_AFTER_DAYS).")
        parser.add_argument("--accept", type=int, metavar="ID",
                            help="Accept calibration ID's proposal as a new rule version.")

    def handle(self, *args, as_of, stale_after_days, accept, **options):
        if accept is not None:
            try:
                accepted = calibration_accept(calibration_id=accept, by=None)
            except RuleCalibration.DoesNotExist:
                raise CommandError(f"There is no calibration #{accept}.") from None
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from None
            self.stdout.write(f"Calibration #{accepted.pk} accepted: rule version {accepted.accepted_version_id}. "
                              "Rescore the leads (manage.py rescore_leads) to apply it to stored scores.")
            return
        if stale_after_days is not None and stale_after_days < 1:
            raise CommandError("--stale-after-days must be at least 1.")
        result = calibration_run(as_of=as_of_option(as_of) if as_of else None, stale_after_days=stale_after_days)
        self._print(result)

    def _print(self, result: RuleCalibration) -> None:
        write = self.stdout.write
        write(f"Calibration #{result.pk} of rule version {result.from_version_id}: {result.labelled} leads with a "
              f"known outcome; fitted on the older {result.fitted}, judged on the newer {result.held_out}.")
        write("")
        rules, effect = calibration_table(result)
        write(f"{'Rule':28} {'Now':>5} {'Proposed':>8}  {'Leads':>6} {'Converted':>9}  Lift (95 % interval)")
        for row in rules:
            write(f"{row.rule[:28]:28} {row.current:>+5d} {row.proposed:>8}  {row.held:>6} {row.held_rate:>9}  "
                  f"{row.lift}")
        write("")
        write(f"On the {result.held_out} held-out leads ({result.result['current']['converted']} converted):")
        write(f"  {'':30} {'Now':>10} {'Proposed':>10}")
        for row in effect:
            write(f"  {row.figure:30} {row.current:>10} {row.proposed:>10}")
        write("")
        if result.status == RuleCalibration.Status.PROPOSED:
            write(f"Proposed. Accept it with: manage.py calibrate_rules --accept {result.pk}")
        else:
            write(f"Refused: {result.reason}")
