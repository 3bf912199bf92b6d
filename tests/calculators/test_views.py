"""The public tools end to end over HTTP: each one tracks, scores and can make a lead."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from interactions.models import UserInteraction, UserSession
from leads.models import Appointment, Lead

pytestmark = pytest.mark.django_db

CONTACT = {
    "first_name": "Sarah", "last_name": "Chen", "email": "Sarah.Chen@example.com", "phone": "",
    "consent_contact": "on",
}


def session_of(client) -> UserSession:
    return UserSession.objects.get()


def test_the_home_page_links_every_tool_and_lists_the_catalog(client):
    page = client.get("/").content.decode()
    for path in ("/enhanced-ai/", "/enhanced-face/", "/enhanced-cost/", "/book/", "/treatments/"):
        assert f'href="{path}' in page
    assert "Lip filler" in page and "Rhinoplasty" in page


def test_a_text_query_is_recommended_tracked_and_offers_the_contact_form(client):
    response = client.post("/enhanced-ai/", {"query": "I want botox for my forehead lines before my wedding next month"})
    assert response.status_code == 302
    interaction = UserInteraction.objects.get()
    assert interaction.interaction_type == "ai_recommendation"
    assert interaction.data["urgency"] == "immediate"
    assert interaction.score == 85
    page = client.get(response.url).content.decode()
    assert "Anti-wrinkle injections (Botox)" in page
    assert 'id="contact-prompt"' in page
    assert session_of(client).contact_prompt_shown_count == 1


def test_an_empty_or_double_submission_is_a_clear_form_error(client):
    response = client.post("/enhanced-ai/", {"query": ""})
    assert response.status_code == 400
    assert "Describe your concern" in response.content.decode()
    assert not UserInteraction.objects.exists()


def test_another_visitors_result_is_not_found(client):
    client.post("/enhanced-ai/", {"query": "lip filler"})
    url = reverse("calculators:recommend_result", args=[UserInteraction.objects.get().pk])
    client.cookies.clear()
    assert client.get(url).status_code == 404


def test_the_contact_prompt_turns_the_visitor_into_a_lead_with_their_journey(client):
    client.post("/enhanced-ai/", {"query": "botox for my forehead lines before my wedding next month"})
    interaction = UserInteraction.objects.get()
    response = client.post("/contact/", {**CONTACT, "interaction": interaction.pk})
    assert response.status_code == 302 and response.url == "/contact/thanks/"
    lead = Lead.objects.get()
    # The enquiry (base 70) outranks the recommendation (60) as the base; +25 for the wedding.
    assert (lead.email, lead.lead_score, lead.source, lead.interaction) == (
        "sarah.chen@example.com", 95, "ai_recommendation", interaction)
    page = client.get("/contact/thanks/").content.decode()
    assert "Thank you, Sarah" in page and "phone number" in page


def test_the_prompt_posts_back_to_its_result_page_and_makes_the_lead(client):
    client.post("/enhanced-ai/", {"query": "botox for my forehead lines before my wedding next month"})
    interaction = UserInteraction.objects.get()
    url = reverse("calculators:recommend_result", args=[interaction.pk])
    assert f'action="{url}"' in client.get(url).content.decode()
    response = client.post(url, CONTACT)
    assert response.status_code == 302 and response.url == "/contact/thanks/"
    assert Lead.objects.get().interaction == interaction


def test_a_mistake_in_the_prompt_shows_the_result_page_again_with_the_errors_in_place(client):
    client.post("/enhanced-ai/", {"query": "botox for my forehead lines before my wedding next month"})
    url = reverse("calculators:recommend_result", args=[UserInteraction.objects.get().pk])
    response = client.post(url, {**CONTACT, "email": "sarah@", "consent_contact": ""})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Anti-wrinkle injections (Botox)" in page  # the recommendations are still there
    assert 'id="contact-prompt"' in page and "Enter a valid email address." in page
    assert 'value="Sarah"' in page  # what they typed is kept
    assert "No thanks, not now" in page
    assert not Lead.objects.exists()


def test_reloading_a_result_page_keeps_offering_the_form(client):
    client.post("/enhanced-ai/", {"query": "botox for my forehead lines before my wedding next month"})
    url = reverse("calculators:recommend_result", args=[UserInteraction.objects.get().pk])
    for _ in range(5):
        assert 'id="contact-prompt"' in client.get(url).content.decode()
    assert session_of(client).contact_prompt_shown_count == 1


def test_the_same_contact_form_posted_three_times_is_stored_once(
    client, mailoutbox, django_capture_on_commit_callbacks, front_desk_inbox
):
    import re

    from leads.models import Consent

    client.post("/enhanced-ai/", {"query": "botox for my forehead lines before my wedding next month"})
    page = client.get("/contact/").content.decode()
    submission_id = re.search(r'name="submission_id" value="([0-9a-f-]{36})"', page).group(1)
    posted = {**CONTACT, "message": "Is there a slot before the 20th?", "submission_id": submission_id}
    with django_capture_on_commit_callbacks(execute=True):
        responses = [client.post("/contact/", posted) for _ in range(3)]
    assert [(r.status_code, r.url) for r in responses] == [(302, "/contact/thanks/")] * 3
    lead = Lead.objects.get()
    assert lead.message == "Is there a slot before the 20th?"
    assert Consent.objects.filter(lead=lead).count() == 1
    assert UserInteraction.objects.filter(interaction_type="contact_form").count() == 1
    assert len(mailoutbox) == 1
    # A new form (a new id) is a new message; a second enquiry adds no points (bases never add up).
    score = lead.lead_score
    client.post("/contact/", {**posted, "message": "And my sister too.", "submission_id": ""})
    lead.refresh_from_db()
    assert lead.message == "Is there a slot before the 20th?\n\nAnd my sister too."
    assert lead.lead_score == score == 95


def test_the_second_step_adds_the_phone_to_the_same_lead(client):
    client.post("/enhanced-ai/", {"query": "lip filler"})
    client.post("/contact/", CONTACT)
    response = client.post("/contact/thanks/", {"phone": "07911 123456"})
    assert response.status_code == 200
    assert Lead.objects.get().phone == "+447911123456"


def test_the_same_second_step_posted_three_times_adds_its_message_once(client):
    import re

    client.post("/enhanced-ai/", {"query": "lip filler"})
    client.post("/contact/", CONTACT)
    page = client.get("/contact/thanks/").content.decode()
    submission_id = re.search(r'name="submission_id" value="([0-9a-f-]{36})"', page).group(1)
    posted = {"phone": "07911 123456", "message": "Mornings are best.", "submission_id": submission_id}
    assert [client.post("/contact/thanks/", posted).status_code for _ in range(3)] == [200] * 3
    lead = Lead.objects.get()
    assert (lead.phone, lead.message) == ("+447911123456", "Mornings are best.")
    assert UserInteraction.objects.filter(interaction_type="contact_form").count() == 2  # the form, the step


def test_contact_form_errors_are_shown_and_nothing_is_created(client):
    client.get("/")
    response = client.post("/contact/", {**CONTACT, "email": "not-an-email", "consent_contact": ""})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter a valid email address." in page and "This field is required." in page
    assert not Lead.objects.exists()


def test_a_dismissed_prompt_is_not_shown_again_soon(client):
    client.post("/enhanced-ai/", {"query": "lip filler"})
    url = reverse("calculators:recommend_result", args=[UserInteraction.objects.get().pk])
    assert 'id="contact-prompt"' in client.get(url).content.decode()
    assert client.post("/contact/dismiss/", {"next": url}).url == url
    assert 'id="contact-prompt"' not in client.get(url).content.decode()


def test_dismiss_never_redirects_off_site(client):
    client.get("/")
    assert client.post("/contact/dismiss/", {"next": "https://evil.example/"}).url == "/"


def cost_post(lines, budget="1500_5000"):
    data = {"line-TOTAL_FORMS": "3", "line-INITIAL_FORMS": "0", "line-MIN_NUM_FORMS": "0",
            "line-MAX_NUM_FORMS": "6", "budget_range": budget}
    for i, (slug, quantity, sessions) in enumerate(lines):
        data.update({f"line-{i}-procedure": slug, f"line-{i}-quantity": quantity, f"line-{i}-sessions": sessions})
    return data


def test_a_multi_procedure_estimate_shows_the_breakdown_and_scores_the_bonuses(client):
    response = client.post("/enhanced-cost/", cost_post([("botox", 2, ""), ("lip-filler", 1, "")]))
    assert response.status_code == 302
    interaction = UserInteraction.objects.get()
    assert interaction.data["procedures"] == ["botox", "lip-filler"]
    assert interaction.data["budget_level"] == "high"
    assert {r["rule"] for r in interaction.score_reasons} == {"Cost calculator", "Multiple procedures", "High budget"}
    assert interaction.score == 100  # 70 + 15 + 20, capped
    page = client.get(response.url).content.decode()
    assert "£522.50–£807.50" in page  # 550-850 less the 5 % package saving
    assert "Get your detailed quote" in page


def test_a_detailed_quote_request_creates_a_lead_from_the_calculation(client):
    client.post("/enhanced-cost/", cost_post([("chemical-peel", 1, "3")], budget="under_500"))
    interaction = UserInteraction.objects.get()
    client.post("/contact/", {**CONTACT, "interaction": interaction.pk, "message": "Please send me a detailed quote."})
    lead = Lead.objects.get()
    assert lead.source == "cost_calculator" and "detailed quote" in lead.message


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([], "Choose at least one treatment."),
        ([("botox", 1, ""), ("botox", 2, "")], "Each treatment only once"),
        ([("botox", 9, "")], "at most 3"),
        ([("laser-hair-removal", 1, "30")], "Ensure this value is less than or equal to 20."),
        ([("no-such-thing", 1, "")], "Select a valid choice"),
    ],
)
def test_impossible_estimates_are_explained(client, lines, message):
    response = client.post("/enhanced-cost/", cost_post(lines))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not UserInteraction.objects.exists()


def test_booking_creates_the_appointment_and_a_lead_scored_90_base(client):
    soon = timezone.localdate() + datetime.timedelta(days=30)
    response = client.post("/book/", {
        "treatment": "hydrafacial", "preferred_date": soon.isoformat(), "time_window": "morning",
        **CONTACT, "phone": "07911 123456",
    })
    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert (appointment.treatment, appointment.preferred_date) == ("HydraFacial", soon)
    lead = appointment.lead
    assert lead.source == "appointment_booking" and lead.lead_score == 90
    assert "HydraFacial" in client.get(response.url).content.decode()


def test_a_known_patient_books_without_retyping_their_details(client):
    client.post("/enhanced-ai/", {"query": "lip filler"})
    client.post("/contact/", CONTACT)
    page = client.get("/book/").content.decode()
    assert 'name="email"' not in page and 'name="consent_contact"' not in page
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = client.post("/book/", {"treatment": "lip-filler", "preferred_date": tomorrow.isoformat(),
                                      "time_window": "evening"})
    assert response.status_code == 302
    assert Lead.objects.count() == 1
    assert Appointment.objects.get().lead == Lead.objects.get()


def test_booking_in_the_past_is_refused(client):
    response = client.post("/book/", {"treatment": "", "preferred_date": "2020-01-01", "time_window": "morning", **CONTACT})
    assert response.status_code == 400
    assert "from today on" in response.content.decode()
    assert not Lead.objects.exists()


def test_a_search_finds_treatments_and_is_tracked(client):
    page = client.get("/treatments/", {"q": "acne scars"}).content.decode()
    assert "Microneedling" in page
    search = UserInteraction.objects.get()
    assert search.interaction_type == "search" and search.data["query"] == "acne scars"


def jpeg(array) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@pytest.fixture
def portrait():
    from django.core.files.uploadedfile import SimpleUploadedFile
    from skimage import data

    return SimpleUploadedFile("me.jpg", jpeg(data.astronaut()), content_type="image/jpeg")


@pytest.fixture
def no_face():
    from django.core.files.uploadedfile import SimpleUploadedFile
    from skimage import data

    return SimpleUploadedFile("coffee.jpg", jpeg(data.coffee()), content_type="image/jpeg")


def test_a_face_photo_is_measured_and_the_prompt_follows_at_once(client, portrait):
    response = client.post("/enhanced-face/", {"photo": portrait, "photo_consent": "on"})
    assert response.status_code == 302
    interaction = UserInteraction.objects.get()
    assert interaction.interaction_type == "face_analysis" and interaction.score == 80
    assert {m["key"] for m in interaction.data["measures"]} == {
        "redness", "uneven_tone", "dark_spots", "texture", "shine", "under_eye_darkness"}
    assert interaction.data["photo_consent"] == "photo-v1"
    page = client.get(response.url).content.decode()
    assert "not a medical diagnosis" in page
    assert 'id="contact-prompt"' in page


def test_a_photo_without_a_face_is_refused_on_the_page(client, no_face):
    response = client.post("/enhanced-face/", {"photo": no_face, "photo_consent": "on"})
    assert response.status_code == 400
    assert "could not find a face" in response.content.decode()
    assert not UserInteraction.objects.exists()


def test_photo_analysis_needs_its_own_consent(client, portrait):
    response = client.post("/enhanced-face/", {"photo": portrait})
    assert response.status_code == 400
    assert "agreement to analyse a photo" in response.content.decode()
    assert not UserInteraction.objects.exists()


def test_a_long_narrow_strip_is_refused_on_the_page_not_a_server_error(client):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    strip = io.BytesIO()
    Image.new("1", (100, 400_000), 1).save(strip, "PNG", optimize=True)
    upload = SimpleUploadedFile("strip.png", strip.getvalue(), content_type="image/png")
    response = client.post("/enhanced-face/", {"photo": upload, "photo_consent": "on"})
    assert response.status_code == 400
    assert "long, narrow strip" in response.content.decode()
    assert not UserInteraction.objects.exists()


def test_a_file_that_is_not_an_image_is_refused(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("me.jpg", b"<?php echo 'hi'; ?>", content_type="image/jpeg")
    response = client.post("/enhanced-face/", {"photo": fake, "photo_consent": "on"})
    assert response.status_code == 400
    assert not UserInteraction.objects.exists()


def test_the_recommenders_photo_mode_recommends_from_the_findings(client, portrait):
    response = client.post("/enhanced-ai/", {"photo": portrait, "photo_consent": "on"})
    assert response.status_code == 302
    interaction = UserInteraction.objects.get()
    assert interaction.interaction_type == "ai_recommendation" and interaction.data["input"] == "photo"
    assert interaction.data["concerns"]
    assert interaction.data["recommendations"]
    assert "From your photo we noticed" in client.get(response.url).content.decode()


def spoken(tmp_path, sentence: str) -> bytes:
    """A sentence spoken by espeak-ng, as a 16 kHz mono WAV a phone might send."""
    import subprocess

    raw, wav = tmp_path / "raw.wav", tmp_path / "speech.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(raw), sentence], check=True)
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(wav)], check=True)
    return wav.read_bytes()


def test_a_voice_recording_is_transcribed_shown_and_recommended(client, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    audio = SimpleUploadedFile("note.wav", spoken(tmp_path, "I want botox for my forehead wrinkles"), "audio/wav")
    response = client.post("/enhanced-ai/", {"audio": audio})
    assert response.status_code == 302
    interaction = UserInteraction.objects.get()
    assert interaction.data["input"] == "voice"
    assert "botox" in interaction.data["transcript"] and "forehead" in interaction.data["transcript"]
    assert interaction.data["recommendations"][0]["procedure"] == "botox"
    assert "We heard" in client.get(response.url).content.decode()


def test_a_recording_that_is_not_audio_is_refused_on_the_page(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("note.m4a", b"definitely not audio" * 50, "audio/mp4")
    response = client.post("/enhanced-ai/", {"audio": fake})
    assert response.status_code == 400
    assert not UserInteraction.objects.exists()


def submission_id_of(page) -> str:
    import re

    return re.search(r'name="submission_id" value="([0-9a-f-]+)"', page.content.decode()).group(1)


def test_a_double_click_on_a_tool_records_one_interaction_and_shows_the_same_result(client):
    key = submission_id_of(client.get("/enhanced-ai/"))
    first = client.post("/enhanced-ai/", {"query": "lip filler", "submission_id": key})
    again = client.post("/enhanced-ai/", {"query": "lip filler", "submission_id": key})
    assert first.url == again.url
    assert UserInteraction.objects.count() == 1
    other = client.post("/enhanced-ai/", {"query": "lip filler", "submission_id": submission_id_of(client.get("/enhanced-ai/"))})
    assert other.url != first.url and UserInteraction.objects.count() == 2


def test_a_retried_booking_makes_one_appointment_and_one_lead(client):
    key = submission_id_of(client.get("/book/"))
    soon = (timezone.localdate() + datetime.timedelta(days=5)).isoformat()
    form = {"treatment": "botox", "preferred_date": soon, "time_window": "morning", **CONTACT, "submission_id": key}
    first, again = client.post("/book/", form), client.post("/book/", form)
    assert first.url == again.url
    assert (Appointment.objects.count(), Lead.objects.count(), UserInteraction.objects.count()) == (1, 1, 1)


def test_a_submission_id_copied_from_another_visitor_is_not_theirs(client):
    key = submission_id_of(client.get("/enhanced-ai/"))
    client.post("/enhanced-ai/", {"query": "lip filler", "submission_id": key})
    client.cookies.clear()
    response = client.post("/enhanced-ai/", {"query": "botox", "submission_id": key})
    assert response.status_code == 302
    assert UserInteraction.objects.count() == 2


@pytest.mark.parametrize("target", ["9999", "home", "javascript:alert(1)", "//evil.example/x"])
def test_dismiss_goes_home_for_anything_but_a_local_path(client, target):
    client.get("/")
    assert client.post("/contact/dismiss/", {"next": target}).url == "/"


def png_bomb() -> bytes:
    """A tiny PNG whose header claims 20,000 x 20,000 pixels (400 megapixels)."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bomb.png", png_bomb(), "too large"),
        ("me.jpg", b"<?php system($_GET['c']); ?>", "could not open this file as a photo"),
        ("empty.jpg", b"", "empty"),
        ("huge.jpg", b"\xff\xd8\xff" + b"0" * (30 * 1024 * 1024), "too large"),
    ],
    ids=["decompression-bomb", "php-renamed-jpg", "zero-bytes", "30-mb"],
)
def test_bad_uploads_are_refused_with_a_clear_message_and_nothing_is_stored(client, tmp_path, settings, name, content,
                                                                             message):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile(name, content, content_type="image/jpeg")
    response = client.post("/enhanced-face/", {"photo": upload, "photo_consent": "on"})
    assert response.status_code == 400
    assert message in response.content.decode().lower()
    assert not UserInteraction.objects.exists()
    assert not any(tmp_path.iterdir())


def test_the_same_booking_sent_again_the_same_day_is_one_appointment_and_says_so(client):
    soon = (timezone.localdate() + datetime.timedelta(days=9)).isoformat()
    form = {"treatment": "botox", "preferred_date": soon, "time_window": "morning", **CONTACT}
    first = client.post("/book/", {**form, "submission_id": submission_id_of(client.get("/book/"))})
    # Back, then Send again: a freshly rendered form, so a new one-time id.
    again = client.post("/book/", {**form, "submission_id": submission_id_of(client.get("/book/"))}, follow=True)
    assert again.redirect_chain[-1][0] == first.url
    assert "already asked for this appointment" in again.content.decode()
    assert (Appointment.objects.count(), UserInteraction.objects.count()) == (1, 1)
    # Another time of day is another request.
    client.post("/book/", {**form, "time_window": "evening", "submission_id": submission_id_of(client.get("/book/"))})
    assert Appointment.objects.count() == 2


def test_a_form_error_is_tied_to_its_field_for_screen_readers(client):
    client.get("/")
    page = client.post("/contact/", {**CONTACT, "email": "sarah@"}).content.decode()
    field = re.search(r'<input[^>]*name="email"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in field
    described_by = re.search(r'aria-describedby="([^"]+)"', field).group(1)
    assert re.search(rf'id="{described_by}"[^>]*>.*?Enter a valid email address', page, re.S)


def finder_page(client, query):
    response = client.post("/enhanced-ai/", {"query": query})
    assert response.status_code == 302
    return client.get(response.url).content.decode()


def test_when_nothing_fits_the_finder_says_so_and_offers_a_practitioners_call(client):
    page = finder_page(client, "I want a bigger bum without surgery")
    assert 'id="no-match"' in page and 'id="recommendations"' not in page
    assert 'id="contact-prompt"' in page and "Ask a practitioner to call you" in page
    assert "Rhinoplasty" not in page
    assert "As you asked, we left out: surgery." in page


def test_each_suggestion_shows_its_from_price_and_the_budget_is_stated(client):
    page = finder_page(client, "acne scars and dark spots, budget around 500")
    assert "Your budget: £500." in page
    assert "from £180 per session" in page  # microneedling
    assert "Over your budget" not in page
    interaction = UserInteraction.objects.get()
    assert all(r["price_from"] <= 500 for r in interaction.data["recommendations"])


def test_a_suggestion_over_the_budget_is_flagged_and_the_page_says_none_fit(client):
    page = finder_page(client, "lip filler, max £200")
    assert "Over your budget" in page and "None of these starts within it" in page


def test_a_refused_kind_is_named_back_to_the_patient(client):
    page = finder_page(client, "wrinkles on my forehead but no needles")
    assert "As you asked, we left out: needles." in page
    assert "Anti-wrinkle injections" not in page and 'id="recommendations"' in page
