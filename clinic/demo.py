"""Demo data built through the real code paths: sessions start as the middleware
starts them, interactions go through the tracker and are scored by the rules,
leads come from create_lead_from_form. Nothing here writes a score.

The report's demo: Sarah Chen (AI recommendation, 85), Priya Sharma (face analysis,
88 in the report, 85 here: every default rule is a multiple of 5), Anita Reddy
(cost calculator, 85), an anonymous visitor with three progressive interactions,
and a few weeks of realistic traffic behind them for the analytics pages.
"""

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from calculators.models import Procedure
from calculators.services import categories_of
from interactions.models import InteractionType, UserSession
from interactions.services import session_start, session_touch
from interactions.tracker import track_user_interaction
from leads.models import CampaignCost, Lead, LeadStatus, TimeWindow
from leads import synthetic
from leads.services import appointment_request, create_lead_from_form, lead_assign_owner, lead_update_status

DEMO_NAMESPACE = uuid.UUID("5b0f3c9e-6a53-4c2f-9f0e-2f6b8f1d7a10")
DEMO_ADMIN_USERNAME = "admin"
DEMO_ADMIN_PASSWORD = "admin"
BACKGROUND_SESSIONS = 150
HISTORY_DAYS = 28
DEMO_COST_NOTE = "demo data"
# seed_demo --history: a year of a clinic's history whose true conversion mechanism is
# known (leads.synthetic): some 1,600 leads, 1,500 with an outcome, in about 20 s on
# SQLite and 30 s on PostgreSQL (measured on two cores).
HISTORY_VISITORS = 4000
HISTORY_DAYS_BACK = 365


def demo_session_id(n: int) -> uuid.UUID:
    return uuid.uuid5(DEMO_NAMESPACE, f"demo-session-{n}")


@dataclass(frozen=True)
class DemoSummary:
    sessions: int
    interactions: int
    leads: int
    admin_created: bool


CHANNELS = [
    # (weight, utm_source, utm_medium, utm_campaign, referrer, landing page)
    (30, "google", "cpc", "botox-spring", "https://www.google.com/", "/enhanced-ai/"),
    (15, "google", "cpc", "lip-filler-summer", "https://www.google.com/", "/enhanced-cost/"),
    (18, "facebook", "paid_social", "summer-glow", "https://www.facebook.com/", "/enhanced-face/"),
    (12, "instagram", "social", "", "https://www.instagram.com/", "/"),
    (8, "newsletter", "email", "november-news", "", "/enhanced-cost/"),
    (17, "", "", "", "", "/"),
]

# Concerns are calculators.vocabulary.CONCERNS keys and procedures catalog slugs, as the
# tools write them (tests/test_seed_demo.py checks), so the demo's analytics group with
# real traffic.
AI_QUERIES = [
    ("I want botox for my forehead wrinkles", ["forehead_lines"], ["botox"], "soon", None),
    ("lip filler before my wedding next month", ["thin_lips"], ["lip-filler"], "immediate", "medium"),
    ("something for acne scars, money is not an issue", ["acne_scars"], ["microneedling", "laser-resurfacing"], "flexible", "high"),
    ("dark circles under my eyes", ["dark_circles"], ["tear-trough-filler"], "flexible", None),
    ("sagging jawline and jowls", ["sagging_skin"], ["thread-lift", "dermal-filler"], "soon", "high"),
    ("redness on my cheeks", ["redness"], ["ipl-photofacial"], "flexible", "low"),
    ("crow's feet and frown lines asap", ["crows_feet", "frown_lines"], ["botox"], "immediate", None),
]
FACE_FINDINGS = [
    ["pigmentation", "uneven_tone"],
    ["fine_lines"],
    ["redness", "enlarged_pores"],
    ["dark_circles", "fine_lines"],
    ["oiliness", "texture"],
]
COST_BASKETS = [
    (["botox"], "medium"),
    (["lip-filler"], "low"),
    (["botox", "dermal-filler"], "high"),
    (["chemical-peel", "microneedling"], "medium"),
    (["laser-hair-removal"], "medium"),
    (["rhinoplasty"], "high"),
]
SEARCHES = ["botox price", "lip filler", "pigmentation", "acne scars", "laser hair removal", "jawline", "peel"]
FIRST_NAMES = [
    "Emma", "Olivia", "Amelia", "Isla", "Ava", "Mia", "Grace", "Sophie", "Chloe", "Lily", "Hannah",
    "Aisha", "Zara", "Leah", "Ruby", "Ella", "Freya", "Maya", "Nadia", "Laura", "James", "Daniel",
]
LAST_NAMES = [
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Patel", "Khan", "Evans", "Thomas",
    "Roberts", "Walker", "Wright", "Hughes", "Green", "Hall", "Clarke", "Ali", "Murphy", "Lewis",
]
TREATMENT_VALUES = [Decimal(v) for v in ("250", "350", "450", "600", "900", "1200", "2400")]


def demo_present() -> bool:
    return UserSession.objects.filter(public_id=demo_session_id(0)).exists()


@transaction.atomic
def demo_remove() -> int:
    """Delete the demo's sessions (their interactions go with them) and leads."""
    ids = [demo_session_id(n) for n in range(BACKGROUND_SESSIONS + 10)]
    sessions = UserSession.objects.filter(public_id__in=ids)
    Lead.objects.filter(sessions__in=sessions).delete()
    CampaignCost.objects.filter(note=DEMO_COST_NOTE).delete()
    deleted, _ = sessions.delete()
    return deleted


def demo_admin_ensure() -> bool:
    """A superuser to log in with; returns True if it was created now."""
    User = get_user_model()
    if User.objects.filter(username=DEMO_ADMIN_USERNAME).exists():
        return False
    User.objects.create_superuser(DEMO_ADMIN_USERNAME, "admin@clinic.example", DEMO_ADMIN_PASSWORD)
    return True


class _Builder:
    def __init__(self, now: datetime, seed: int):
        self.now = now
        self.random = random.Random(seed)
        self.next_session = 0
        self.interactions = 0
        self.leads = 0

    def session(self, *, started_at, source="", medium="", campaign="", referrer="", landing="/") -> UserSession:
        session = session_start(
            public_id=demo_session_id(self.next_session),
            landing_page=landing + (f"?utm_source={source}&utm_medium={medium}" if source else ""),
            referrer=referrer,
            utm={"utm_source": source, "utm_medium": medium, "utm_campaign": campaign},
            user_agent=self.random.choice(
                ["Mozilla/5.0 (iPhone; CPU iPhone OS 18_1)", "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
                 "Mozilla/5.0 (Linux; Android 15)", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5)"]
            ),
            started_at=started_at,
        )
        self.next_session += 1
        return session

    def track(self, session, kind, data, at, *, seconds=0, page=""):
        session_touch(session=session, now=at)
        self.interactions += 1
        if data.get("procedures"):
            data = {**data, "categories": categories_of(data["procedures"])}
        return track_user_interaction(
            session, kind, data, page_url=page, engagement_seconds=seconds, occurred_at=at
        )

    def lead(self, session, interaction, at, **contact):
        self.leads += 1
        return create_lead_from_form(
            session=session, interaction=interaction, occurred_at=at, notify=False, trusted=True,
            data={"consent_contact": True, **contact},
        )

    def report_demo(self) -> None:
        """The report's named patients and its anonymous visitor."""
        t = self.now - timedelta(days=2, hours=3)
        sarah = self.session(started_at=t, source="google", medium="cpc", campaign="botox-spring",
                             referrer="https://www.google.com/", landing="/enhanced-ai/")
        ai = self.track(sarah, InteractionType.AI_RECOMMENDATION, {
            "query": "I'd like botox for my forehead lines before my wedding next month",
            "concerns": ["forehead_lines"], "procedures": ["botox"], "urgency": "immediate",
        }, t + timedelta(minutes=2), seconds=95, page="/enhanced-ai/")
        self.lead(sarah, ai, t + timedelta(minutes=4), first_name="Sarah", last_name="Chen",
                  email="sarah.chen@example.com", phone="07911 100201",
                  message="Is there a slot before the 20th?")

        t = self.now - timedelta(days=1, hours=6)
        priya = self.session(started_at=t, source="facebook", medium="paid_social", campaign="summer-glow",
                             referrer="https://www.facebook.com/", landing="/enhanced-face/")
        self.track(priya, InteractionType.AI_RECOMMENDATION, {
            "query": "dark patches on my cheeks after the summer", "concerns": ["pigmentation"],
            "procedures": ["chemical-peel"],
        }, t + timedelta(minutes=1), seconds=30, page="/enhanced-ai/")
        face = self.track(priya, InteractionType.FACE_ANALYSIS, {
            "concerns": ["pigmentation", "uneven_tone"], "procedures": ["chemical-peel"],
        }, t + timedelta(minutes=3), seconds=60, page="/enhanced-face/")
        self.lead(priya, face, t + timedelta(minutes=5), first_name="Priya", last_name="Sharma",
                  email="priya.sharma@example.com", phone="07911 100202", consent_marketing=True)

        t = self.now - timedelta(hours=20)
        anita = self.session(started_at=t, landing="/enhanced-cost/")
        cost = self.track(anita, InteractionType.COST_CALCULATOR, {
            "procedures": ["lip-filler", "chemical-peel"], "budget_level": "medium",
            "total_min": 520, "total_max": 780,
        }, t + timedelta(minutes=2), seconds=80, page="/enhanced-cost/")
        self.lead(anita, cost, t + timedelta(minutes=3), first_name="Anita", last_name="Reddy",
                  email="anita.reddy@example.com", phone="07911 100203")

        t = self.now - timedelta(hours=5)
        anonymous = self.session(started_at=t, source="instagram", medium="social",
                                 referrer="https://www.instagram.com/")
        self.track(anonymous, InteractionType.SEARCH, {"query": "lip filler"}, t + timedelta(minutes=1),
                   seconds=25, page="/")
        self.track(anonymous, InteractionType.AI_RECOMMENDATION, {
            "query": "fuller lips, natural look", "concerns": ["thin_lips"], "procedures": ["lip-filler"],
        }, t + timedelta(minutes=4), seconds=70, page="/enhanced-ai/")
        self.track(anonymous, InteractionType.COST_CALCULATOR, {
            "procedures": ["lip-filler"], "budget_level": "low",
        }, t + timedelta(minutes=7), seconds=50, page="/enhanced-cost/")

    def background(self, admin) -> None:
        """Weeks of ordinary traffic, some of it converting, for the analytics pages."""
        rnd = self.random
        weights = [channel[0] for channel in CHANNELS]
        for _ in range(BACKGROUND_SESSIONS):
            _, source, medium, campaign, referrer, landing = rnd.choices(CHANNELS, weights)[0]
            start = self.now - timedelta(days=rnd.uniform(0.3, HISTORY_DAYS))
            session = self.session(started_at=start, source=source, medium=medium, campaign=campaign,
                                   referrer=referrer, landing=landing)
            at = start
            last = None
            lead = None
            for _ in range(rnd.choices([1, 2, 3, 4, 5], [30, 30, 20, 12, 8])[0]):
                # Most steps follow within minutes; some patients come back days later.
                at += timedelta(minutes=rnd.uniform(1, 12)) if rnd.random() < 0.85 else timedelta(days=rnd.uniform(1, 3))
                if at >= self.now:
                    break
                kind, data, page = self._step(rnd)
                if kind == InteractionType.APPOINTMENT_BOOKING:
                    # A booking always comes with contact details: it makes the lead.
                    lead = self._book(session, data, at)
                    break
                last = self.track(session, kind, data, at, seconds=rnd.randint(10, 80), page=page)
            if lead is None and last is not None and rnd.random() < self._conversion_chance(last.interaction_type):
                lead = self._background_lead(session, last, min(at + timedelta(minutes=2), self.now))
            if lead is not None:
                self._work(lead, admin)

    def _step(self, rnd):
        kind = rnd.choices(
            [InteractionType.PAGE_ENGAGEMENT, InteractionType.SEARCH, InteractionType.AI_RECOMMENDATION,
             InteractionType.FACE_ANALYSIS, InteractionType.COST_CALCULATOR, InteractionType.APPOINTMENT_BOOKING],
            [22, 18, 22, 12, 18, 8],
        )[0]
        if kind == InteractionType.PAGE_ENGAGEMENT:
            return kind, {"scroll_depth": rnd.randint(20, 100)}, rnd.choice(["/", "/treatments/", "/about/"])
        if kind == InteractionType.SEARCH:
            return kind, {"query": rnd.choice(SEARCHES)}, "/"
        if kind == InteractionType.AI_RECOMMENDATION:
            query, concerns, procedures, urgency, budget = rnd.choice(AI_QUERIES)
            data = {"query": query, "concerns": concerns, "procedures": procedures, "urgency": urgency}
            if budget:
                data["budget_level"] = budget
            return kind, data, "/enhanced-ai/"
        if kind == InteractionType.FACE_ANALYSIS:
            return kind, {"concerns": rnd.choice(FACE_FINDINGS)}, "/enhanced-face/"
        if kind == InteractionType.COST_CALCULATOR:
            procedures, budget = rnd.choice(COST_BASKETS)
            return kind, {"procedures": procedures, "budget_level": budget}, "/enhanced-cost/"
        return kind, {"procedures": [rnd.choice(["botox", "lip-filler", "hydrafacial", "microneedling"])]}, "/book/"

    @staticmethod
    def _conversion_chance(last_type: str) -> float:
        return {
            InteractionType.FACE_ANALYSIS: 0.55,
            InteractionType.COST_CALCULATOR: 0.35,
            InteractionType.AI_RECOMMENDATION: 0.3,
        }.get(last_type, 0.03)

    def _contact(self) -> dict:
        first, last = self.random.choice(FIRST_NAMES), self.random.choice(LAST_NAMES)
        n = self.next_session
        return {
            "first_name": first, "last_name": last, "email": f"{first}.{last}.{n}@example.com".lower(),
            "phone": f"07911 {200000 + n:06d}" if self.random.random() < 0.7 else "",
            "consent_contact": True,
        }

    def _background_lead(self, session, interaction, at):
        return self.lead(session, interaction, at, **self._contact())

    def _book(self, session, data, at):
        slug = data["procedures"][0]
        procedure = Procedure.objects.get(slug=slug)
        session_touch(session=session, now=at)
        self.interactions += 1
        self.leads += 1
        appointment = appointment_request(
            session=session, treatment=procedure.name, treatment_slug=slug, treatment_category=procedure.category,
            preferred_date=timezone.localdate(at) + timedelta(days=self.random.randint(1, 30)),
            time_window=self.random.choice(TimeWindow.values), data=self._contact(), occurred_at=at, notify=False,
            trusted=True,
        )
        return appointment.lead

    def _work(self, lead: Lead, admin) -> None:
        """Front desk has worked the older leads along the pipeline, a day or two a step."""
        rnd = self.random
        if (self.now - lead.created_at).days < 2:
            return
        target = rnd.choices(
            [LeadStatus.CONTACTED, LeadStatus.QUALIFIED, LeadStatus.BOOKED, LeadStatus.WON, LeadStatus.LOST],
            [25, 20, 20, 20, 15],
        )[0]
        stages = [LeadStatus.CONTACTED, LeadStatus.QUALIFIED, LeadStatus.BOOKED, LeadStatus.WON]
        path = stages[: stages.index(target) + 1] if target != LeadStatus.LOST else (
            stages[: rnd.randint(1, 3)] + [LeadStatus.LOST]
        )
        at = lead.created_at
        for status in path:
            at = min(at + timedelta(hours=rnd.uniform(4, 48)), self.now)
            value = rnd.choice(TREATMENT_VALUES) if status in (LeadStatus.BOOKED, LeadStatus.WON) else None
            lead_update_status(lead=lead, status=status, value=value, by=admin, at=at)
        if rnd.random() < 0.6:
            lead_assign_owner(lead=lead, owner=admin)

    def campaign_costs(self) -> None:
        """Weekly ad spend on the paid campaigns, as staff would enter it."""
        weekly = {("google", "botox-spring"): 120, ("google", "lip-filler-summer"): 80,
                  ("facebook", "summer-glow"): 90, ("newsletter", "november-news"): 15}
        for week in range(HISTORY_DAYS // 7 + 1):
            day = timezone.localdate(self.now) - timedelta(days=7 * week)
            for (source, campaign), amount in weekly.items():
                CampaignCost.objects.create(
                    utm_source=source, utm_campaign=campaign, spent_on=day, amount=Decimal(amount),
                    note=DEMO_COST_NOTE,
                )


@transaction.atomic
def demo_seed(*, seed: int = 2026, now: datetime | None = None) -> DemoSummary:
    """Build the demo from scratch (call demo_remove first to rebuild it)."""
    admin_created = demo_admin_ensure()
    admin = get_user_model().objects.get(username=DEMO_ADMIN_USERNAME)
    builder = _Builder(now or timezone.now(), seed)
    builder.report_demo()
    builder.background(admin)
    builder.campaign_costs()
    return DemoSummary(
        sessions=builder.next_session,
        interactions=builder.interactions,
        leads=builder.leads,
        admin_created=admin_created,
    )


def history_catalog() -> list[synthetic.CatalogItem]:
    """The clinic's active catalog as the history generator takes it (leads may not
    read calculators' models: DESIGN.md)."""
    return [
        synthetic.CatalogItem(
            slug=p.slug, name=p.name, category=p.category, price_min=p.price_min, price_max=p.price_max,
            concerns=tuple(p.concerns),
        )
        for p in Procedure.objects.filter(is_active=True).order_by("slug")
    ]


def demo_history_seed(
    *, seed: int = 2026, visitors: int = HISTORY_VISITORS, now: datetime | None = None
) -> synthetic.SyntheticHistory:
    """A year of synthetic history with known outcomes, for trying calibration and the
    conversion model (call synthetic.history_remove first to rebuild it)."""
    return synthetic.history_generate(
        catalog=history_catalog(), visitors=visitors, days=HISTORY_DAYS_BACK, seed=seed, now=now,
    )
