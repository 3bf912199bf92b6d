"""manage.py calibrate_rules: propose rule points from the leads' outcomes; accept one."""

from datetime import datetime, time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from leads.calibration import calibration_accept, calibration_run
from leads.models import RuleCalibration


def _day(value: str) -> datetime:
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise CommandError(f"--as-of {value!r} is not a date: use YYYY-MM-DD.") from None
    return timezone.make_aware(datetime.combine(day, time.max))


def _percent(value) -> str:
    return "–" if value is None else f"{value * 100:.0f} %"


def _auc(value) -> str:
    return "–" if value is None else f"{value:.3f}"


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
        result = calibration_run(as_of=_day(as_of) if as_of else None, stale_after_days=stale_after_days)
        self._print(result)

    def _print(self, result: RuleCalibration) -> None:
        write = self.stdout.write
        write(f"Calibration #{result.pk} of rule version {result.from_version_id}: {result.labelled} leads with a "
              f"known outcome; fitted on the older {result.fitted}, judged on the newer {result.held_out}.")
        write("")
        write(f"{'Rule':28} {'Now':>5} {'Proposed':>8}  {'Leads':>6} {'Converted':>9}  Lift (95 % interval)")
        for row in result.result["rules"]:
            lift = row["lift"]
            if lift["enough"]:
                interval = lift["ratio_interval"]
                lift_text = f"{lift['ratio']:.2f}x" + (f" ({interval[0]:.2f}-{interval[1]:.2f})" if interval else "")
                proposed = f"{row['proposed']:+d}" if row["proposed"] is not None else "–"
            else:
                lift_text, proposed = lift["why_not"], "–"
            rate = lift["held_converted"] / lift["held"] if lift["held"] else None
            write(f"{row['rule'][:28]:28} {row['current']:>+5d} {proposed:>8}  {lift['held']:>6} {_percent(rate):>9}  "
                  f"{lift_text}")
        current, proposed = result.result["current"], result.result["proposed"]
        write("")
        write(f"On the {current['leads']} held-out leads ({current['converted']} converted):")
        write(f"  {'':22} {'Now':>10} {'Proposed':>10}")
        write(f"  {'ROC AUC':22} {_auc(current['auc']):>10} {_auc(proposed['auc']):>10}")
        write(f"  {'Top 20 % converted':22} {_percent(current['top_precision']):>10} "
              f"{_percent(proposed['top_precision']):>10}")
        for level in ("high", "medium", "low"):
            write(f"  {'Leads ' + level:22} {current['levels'][level]:>10} {proposed['levels'][level]:>10}")
        write("")
        if result.status == RuleCalibration.Status.PROPOSED:
            write(f"Proposed. Accept it with: manage.py calibrate_rules --accept {result.pk}")
        else:
            write(f"Refused: {result.reason}")
