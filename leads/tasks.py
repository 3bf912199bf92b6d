"""Background work for leads, run by the task backend (`manage.py db_worker`)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.tasks import task
from django.urls import reverse

from core.clinic import clinic_profile
from core.permissions import CONTACT_PERMISSION
from leads.models import Lead


def _notification_recipients() -> list[str]:
    """Active staff who may see contact details: the e-mail names the patient, so it
    goes to no one the admin would show "Lead #12" instead. LEAD_NOTIFICATION_EMAILS,
    when set, narrows them to the listed addresses; a listed address that belongs
    to no such user (a shared inbox, a marketing list) hears nothing."""
    staff = (
        get_user_model().objects
        .with_perm(CONTACT_PERMISSION, is_active=True, backend="django.contrib.auth.backends.ModelBackend")
        .filter(is_staff=True).exclude(email="")
    )
    emails = set(staff.values_list("email", flat=True))
    if settings.LEAD_NOTIFICATION_EMAILS:
        listed = {address.strip().lower() for address in settings.LEAD_NOTIFICATION_EMAILS}
        emails = {email for email in emails if email.lower() in listed}
    return sorted(emails)


@task
def notify_staff_of_high_intent_lead(lead_id: int, rules_changed: bool = False) -> int:
    """E-mail the clinic that a lead reached high intent (by what they did, or
    `rules_changed`: re-scored under new rules); returns e-mails sent."""
    return _notify_high_intent(lead_ids=[lead_id], rules_changed=rules_changed)


@task
def notify_staff_of_high_intent_leads(lead_ids: list[int], rules_changed: bool = False) -> int:
    """notify_staff_of_high_intent_lead for many leads at once: the same e-mail for
    each, sent over one connection. A rescore that lifts tens of thousands of leads
    queues one of these per chunk: one queued task per lead cost a committed INSERT
    each, 80 % of a 100,000-lead rescore's time."""
    return _notify_high_intent(lead_ids=lead_ids, rules_changed=rules_changed)


def _notify_high_intent(*, lead_ids: list[int], rules_changed: bool) -> int:
    recipients = _notification_recipients()
    if not recipients:
        return 0
    leads = Lead.objects.in_bulk(lead_ids)
    messages = [_high_intent_message(leads[lead_id], rules_changed=rules_changed)
                for lead_id in lead_ids if lead_id in leads]
    if not messages:
        return 0
    return send_mass_mail([(subject, body, None, recipients) for subject, body in messages])


def _high_intent_message(lead: Lead, *, rules_changed: bool) -> tuple[str, str]:
    """The subject and body of the e-mail about one lead."""
    link = settings.SITE_URL + reverse("admin:leads_lead_change", args=[lead.pk])
    # Only a first name and the score: the e-mail may sit in many inboxes, the
    # contact details stay behind the admin login.
    who = lead.first_name or "a patient"
    if rules_changed:
        subject = f"Lead re-scored to high intent (score {lead.lead_score})"
        opening = (f"A lead you already have was re-scored under the clinic's new scoring rules and is now "
                   f"high intent: {who}, score {lead.lead_score}, status {lead.get_status_display().lower()}.")
    else:
        subject = f"New high-intent lead (score {lead.lead_score})"
        opening = (f"A new high-intent lead is waiting: {who}, score {lead.lead_score}, "
                   f"from {lead.get_source_display()}.")
    return f"[{clinic_profile().name}] {subject}", f"{opening}\n\nOpen the lead: {link}\n"


@task
def rescore_all_leads(run_id: int) -> int:
    """Rescore every lead for the lead-scoring page; returns how many changed."""
    # Imported here: the rescoring service queues this very task.
    from leads.rescoring import rescore_run_execute

    return rescore_run_execute(run_id=run_id).changed


@task
def decay_scores() -> int:
    """A score decay pass (leads.decay): every lead's score as of now, then the next
    run queued while decay is on; returns how many leads changed."""
    from leads.decay import decay_scheduled_run

    summary = decay_scheduled_run()
    return summary.changed if summary is not None else 0


@task
def calibrate_rules(calibration_id: int) -> str:
    """The lead-scoring page's calibration, in the background; returns its status."""
    from leads.calibration import calibration_execute

    return calibration_execute(calibration_id=calibration_id).status


@task
def purge_expired_data() -> int:
    """The scheduled form of `manage.py purge_expired`; returns visitors deleted."""
    from leads.gdpr import purge_expired

    return purge_expired(actor_label="purge_expired_data task").sessions
