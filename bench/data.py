"""Benchmark data, generated in PostgreSQL with generate_series: visitors, their
journeys, the leads half of them became, and one visitor with a very long journey.

Shapes follow what the tools write (see `seed_demo`): tool interactions carry
procedures, categories, urgency or a budget; the scores and reasons look like the
engine's. They are plausible, not computed by the engine: rescoring may change them.
Ids of new sessions and leads are given explicitly (the table's largest id plus the
visitor's number), so interactions find their session and lead without a lookup.
"""

import hashlib
import uuid
from dataclasses import dataclass

from django.db import connection, transaction

# 1 visitor in 100 has a 100-event journey, the others 1 to 7 events:
# (99 * 4 + 100) / 100 interactions per visitor.
LONG_JOURNEY_SHARE = 100
LONG_JOURNEY_EVENTS = 100
MEAN_JOURNEY = (99 * 4 + LONG_JOURNEY_EVENTS) / 100
# Every second visitor became a lead: about 100,000 leads at 1 million interactions.
LEAD_EVERY = 2

PROCEDURES = {
    "botox": "injectables", "lip-filler": "injectables", "cheek-filler": "injectables",
    "dermal-filler": "injectables", "skin-boosters": "injectables", "chemical-peel": "skin",
    "hydrafacial": "skin", "microneedling": "skin", "prp-facial": "skin", "laser-hair-removal": "laser",
    "ipl-photofacial": "laser", "laser-resurfacing": "laser", "cryolipolysis": "body", "hifu": "body",
    "rhinoplasty": "surgical", "blepharoplasty": "surgical",
}

# The visitors of one batch, numbered k = 1..count, with their ids decided up front.
VISITORS_SQL = """
CREATE TEMP TABLE bench_visitor ON COMMIT DROP AS
SELECT k,
       %(session_base)s + k AS session_id,
       CASE WHEN mod(k, %(lead_every)s) = 0 THEN %(lead_base)s + k / %(lead_every)s END AS lead_id,
       now() - random() * interval '365 days' AS started_at,
       CASE WHEN mod(k, %(long_share)s) = 0 THEN %(long_events)s ELSE 1 + floor(random() * 7)::int END AS journey_length,
       floor(random() * 101)::int AS score,
       (ARRAY['google', 'google', 'facebook', 'instagram', 'newsletter', '', ''])[1 + floor(random() * 7)] AS utm_source,
       (ARRAY['spring-offer', 'lips', 'brand', ''])[1 + floor(random() * 4)] AS utm_campaign,
       (ARRAY['new', 'new', 'new', 'contacted', 'contacted', 'qualified', 'booked', 'won', 'lost', 'lost'])
           [1 + floor(random() * 10)] AS status
FROM generate_series(1, %(count)s) AS k
"""

LEADS_SQL = """
INSERT INTO leads_lead (
    id, first_name, last_name, email, phone, message, lead_score, engagement_level, score_reasons, source,
    landing_page, referrer, utm_source, utm_medium, utm_campaign, utm_term, utm_content, status, furthest_stage,
    value, created_at, updated_at, high_intent_notified_at, journey_version
)
SELECT lead_id, 'Patient', lead_id::text, 'patient' || lead_id || '@example.com',
       CASE WHEN mod(k, 3) = 0 THEN '+44' || (7000000000 + lead_id)::text ELSE '' END,
       '', score, level.name, level.reasons,
       (ARRAY['ai_recommendation', 'face_analysis', 'cost_calculator', 'appointment_booking', 'contact_form'])
           [1 + mod(k / %(lead_every)s, 5)],
       '/', '', utm_source, CASE WHEN utm_source = '' THEN '' ELSE 'cpc' END, utm_campaign, '', '', status,
       -- the furthest stage of the history STATUS_CHANGES_SQL gives it (lost after contact)
       CASE WHEN status = 'lost' THEN 'contacted' ELSE status END,
       CASE WHEN status = 'won' THEN 150 + mod(k, 20) * 50 END,
       started_at + journey_length * interval '2 minutes', started_at + journey_length * interval '2 minutes',
       CASE WHEN level.name = 'high' THEN started_at + journey_length * interval '2 minutes' END, 0
FROM bench_visitor
CROSS JOIN LATERAL (
    SELECT CASE WHEN score >= 70 THEN 'high' WHEN score >= 40 THEN 'medium' ELSE 'low' END AS name,
           jsonb_build_array(jsonb_build_object('rule', 'AI recommendation', 'points', least(score, 60),
                                                'occurrences', 1)) AS reasons
) AS level
WHERE lead_id IS NOT NULL
"""

SESSIONS_SQL = """
INSERT INTO interactions_usersession (
    id, public_id, cookie_key_hash, created_at, last_seen_at, visit_count, landing_page, referrer,
    utm_source, utm_medium, utm_campaign, utm_term, utm_content, user_agent, ip_hash,
    interaction_count, engagement_seconds, score, engagement_level, lead_id, lead_stage, converted_at,
    contact_prompt_shown_count, contact_prompt_pages, contact_prompt_visit, experiments
)
SELECT session_id, gen_random_uuid(), md5(random()::text) || md5(random()::text), started_at,
       started_at + journey_length * interval '2 minutes', 1 + mod(k, 3) / 2, '/', '',
       utm_source, CASE WHEN utm_source = '' THEN '' ELSE 'cpc' END, utm_campaign, '', '',
       'Mozilla/5.0 (bench)', md5(k::text), journey_length, journey_length * 40, score,
       CASE WHEN score >= 70 THEN 'high' WHEN score >= 40 THEN 'medium' ELSE 'low' END,
       lead_id,
       -- the lead's furthest stage, as the site keeps it on its visitors (Lead.stage_reached)
       CASE WHEN lead_id IS NULL THEN '' WHEN status = 'lost' THEN 'contacted' ELSE status END,
       CASE WHEN lead_id IS NOT NULL THEN started_at + journey_length * interval '2 minutes' END,
       0, '[]', 0, '{}'
FROM bench_visitor
"""

# A lead's journey ends with the contact form; the steps before are drawn with
# weights: page engagement 8/20, search 3/20, AI recommendation 3/20, cost
# calculator 2/20, face analysis 2/20, booking 2/20.
INTERACTIONS_SQL = """
INSERT INTO interactions_userinteraction (
    session_id, lead_id, interaction_type, data, page_url, engagement_seconds, score, score_reasons,
    converted, created_at
)
SELECT v.session_id, v.lead_id, step.kind,
       CASE step.kind
           WHEN 'page_engagement' THEN jsonb_build_object('scroll_depth', 10 * mod(draw.pick, 10))
           WHEN 'search' THEN jsonb_build_object('query', draw.procedure)
           WHEN 'contact_form' THEN jsonb_build_object('lead', v.lead_id)
           ELSE jsonb_build_object(
               'procedures', jsonb_build_array(draw.procedure), 'categories', jsonb_build_array(draw.category),
               'urgency', (ARRAY['immediate', 'soon', 'flexible'])[1 + mod(draw.pick, 3)],
               'budget_level', (ARRAY['low', 'medium', 'high'])[1 + mod(draw.pick, 3)])
       END,
       '/treatments/' || draw.procedure || '/', 30 + draw.pick,
       v.score * step.i / v.journey_length,
       CASE WHEN step.kind IN ('page_engagement', 'search', 'contact_form') THEN '[]'::jsonb
            ELSE jsonb_build_array(jsonb_build_object(
                'rule', CASE step.kind WHEN 'ai_recommendation' THEN 'AI recommendation'
                                       WHEN 'cost_calculator' THEN 'Cost calculator'
                                       WHEN 'face_analysis' THEN 'Face analysis' ELSE 'Appointment booking' END,
                'points', least(v.score, 60), 'occurrences', 1)) END,
       v.lead_id IS NOT NULL, v.started_at + step.i * interval '2 minutes'
FROM bench_visitor AS v
CROSS JOIN LATERAL generate_series(1, v.journey_length) AS position(i)
-- Referring to position.i makes PostgreSQL draw again for every step.
CROSS JOIN LATERAL (
    SELECT floor(random() * 20)::int + 0 * position.i AS pick, floor(random() * %(procedure_count)s)::int AS choice
) AS raw
CROSS JOIN LATERAL (
    SELECT raw.pick, (%(procedures)s::text[])[1 + raw.choice] AS procedure,
           (%(categories)s::text[])[1 + raw.choice] AS category
) AS draw
CROSS JOIN LATERAL (
    SELECT position.i,
           CASE WHEN v.lead_id IS NOT NULL AND position.i = v.journey_length THEN 'contact_form'
                ELSE (ARRAY['page_engagement', 'page_engagement', 'page_engagement', 'page_engagement',
                            'page_engagement', 'page_engagement', 'page_engagement', 'page_engagement',
                            'search', 'search', 'search', 'ai_recommendation', 'ai_recommendation',
                            'ai_recommendation', 'cost_calculator', 'cost_calculator', 'face_analysis',
                            'face_analysis', 'appointment_booking', 'appointment_booking'])[1 + raw.pick]
           END AS kind
) AS step
ORDER BY v.started_at, step.i
"""

# The interaction that made the lead: the last one before the contact form.
LEAD_SOURCE_INTERACTION_SQL = """
UPDATE leads_lead AS lead
SET interaction_id = source.id
FROM (
    SELECT lead_id, max(id) AS id FROM interactions_userinteraction
    WHERE lead_id > %(lead_base)s AND interaction_type <> 'contact_form'
    GROUP BY lead_id
) AS source
WHERE lead.id = source.lead_id
"""

# Each lead's way along the pipeline to its status (a lost lead was lost after contact).
STATUS_CHANGES_SQL = """
INSERT INTO leads_leadstatuschange (lead_id, from_status, to_status, changed_at)
SELECT lead.id, way.stages[step], way.stages[step + 1], lead.created_at + step * interval '1 day'
FROM leads_lead AS lead
CROSS JOIN LATERAL (
    SELECT CASE WHEN lead.status = 'lost' THEN ARRAY['new', 'contacted', 'lost']
                ELSE (ARRAY['new', 'contacted', 'qualified', 'booked', 'won'])
                    [1:array_position(ARRAY['new', 'contacted', 'qualified', 'booked', 'won'], lead.status)]
           END AS stages
) AS way
CROSS JOIN LATERAL generate_series(1, cardinality(way.stages) - 1) AS step
WHERE lead.id > %(lead_base)s
"""

CONSENTS_SQL = """
INSERT INTO leads_consent (lead_id, session_id, purpose, granted, text, text_version, method, created_at)
SELECT lead_id, session_id, 'contact', true, %(consent_text)s, %(consent_version)s, 'web_form',
       started_at + journey_length * interval '2 minutes'
FROM bench_visitor
WHERE lead_id IS NOT NULL
"""

LONG_VISITOR_SQL = """
INSERT INTO interactions_usersession (
    public_id, cookie_key_hash, created_at, last_seen_at, visit_count, landing_page, referrer,
    utm_source, utm_medium, utm_campaign, utm_term, utm_content, user_agent, ip_hash,
    interaction_count, engagement_seconds, score, engagement_level, contact_prompt_shown_count,
    contact_prompt_pages, contact_prompt_visit, lead_stage, experiments
)
VALUES (%(public_id)s, %(key_hash)s, now() - interval '30 days', now(), 40, '/', '', 'google', 'cpc', 'brand',
        '', '', 'Mozilla/5.0 (bench)', '', %(events)s, %(events)s * 30, 100, 'high', 0, '[]', 0, '', '{}')
RETURNING id
"""

LONG_JOURNEY_SQL = """
INSERT INTO interactions_userinteraction (
    session_id, interaction_type, data, page_url, engagement_seconds, score, score_reasons, converted, created_at
)
SELECT %(session_id)s,
       (ARRAY['page_engagement', 'page_engagement', 'search', 'ai_recommendation', 'cost_calculator'])[1 + mod(i, 5)],
       CASE WHEN mod(i, 5) < 2 THEN jsonb_build_object('scroll_depth', mod(i, 100))
            ELSE jsonb_build_object('query', 'botox', 'procedures', jsonb_build_array('botox'),
                                    'categories', jsonb_build_array('injectables')) END,
       '/treatments/botox/', 30, least(100, i), '[]', false,
       now() - interval '30 days' + i * interval '20 minutes'
FROM generate_series(1, %(events)s) AS i
"""


@dataclass(frozen=True)
class Counts:
    sessions: int
    interactions: int
    leads: int

    @property
    def label(self) -> str:
        return f"{self.interactions:,} interactions, {self.sessions:,} sessions, {self.leads:,} leads"


def counts() -> Counts:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM interactions_usersession), (SELECT count(*) FROM interactions_userinteraction),"
            " (SELECT count(*) FROM leads_lead)"
        )
        return Counts(*cursor.fetchone())


def _largest_id(cursor, table: str) -> int:
    cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
    return cursor.fetchone()[0]


def _move_identity(cursor, table: str) -> None:
    """Rows inserted with explicit ids leave the identity behind; the site's own
    inserts (the load test, the import) must continue after them."""
    cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")


def add_visitors(count: int) -> None:
    """Add `count` visitors with their journeys; every LEAD_EVERY-th became a lead."""
    from leads.consent_texts import consent_text
    from leads.models import ConsentPurpose

    consent_version, text = consent_text(ConsentPurpose.CONTACT)
    with transaction.atomic(), connection.cursor() as cursor:
        params = {
            "count": count, "lead_every": LEAD_EVERY, "long_share": LONG_JOURNEY_SHARE,
            "long_events": LONG_JOURNEY_EVENTS, "session_base": _largest_id(cursor, "interactions_usersession"),
            "lead_base": _largest_id(cursor, "leads_lead"), "procedures": list(PROCEDURES),
            "categories": list(PROCEDURES.values()), "procedure_count": len(PROCEDURES),
            "consent_text": text, "consent_version": consent_version,
        }
        for statement in (VISITORS_SQL, LEADS_SQL, SESSIONS_SQL, INTERACTIONS_SQL, LEAD_SOURCE_INTERACTION_SQL,
                          STATUS_CHANGES_SQL, CONSENTS_SQL):
            cursor.execute(statement, params)
        _move_identity(cursor, "interactions_usersession")
        _move_identity(cursor, "leads_lead")
    with connection.cursor() as cursor:
        # VACUUM too, as autovacuum does on a database that grew over a year: rows loaded a
        # moment ago are not yet marked all-visible, and PostgreSQL then reads the table
        # for every index-only count the dashboard makes, planning as no live database would.
        cursor.execute("VACUUM (ANALYZE)")


def grow_to(interactions: int) -> Counts:
    """Add visitors until the database holds about `interactions` interactions."""
    missing = interactions - counts().interactions
    if missing > 0:
        add_visitors(round(missing / MEAN_JOURNEY))
    return counts()


def long_journey_visitor(*, events: int) -> str:
    """A returning visitor with `events` interactions; returns their cookie's value."""
    public_id, secret = uuid.uuid4(), uuid.uuid4().hex
    with connection.cursor() as cursor:
        cursor.execute(LONG_VISITOR_SQL, {
            # As interactions.services stores it: the SHA-256 of the cookie's secret.
            "public_id": public_id, "key_hash": hashlib.sha256(secret.encode()).hexdigest(), "events": events,
        })
        cursor.execute(LONG_JOURNEY_SQL, {"session_id": cursor.fetchone()[0], "events": events})
    return f"{public_id}.{secret}"
