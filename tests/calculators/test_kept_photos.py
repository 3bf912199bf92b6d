"""A face photo is kept only when the patient asks: stripped of metadata, and deleted
after the retention period or with the person's data."""

import io
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from PIL import Image
from skimage import data as skimage_data

from interactions.models import InteractionPhoto

pytestmark = pytest.mark.django_db
CONTACT = {"first_name": "Priya", "email": "priya@example.com", "consent_contact": "on"}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def photo_with_gps() -> SimpleUploadedFile:
    image = Image.fromarray(skimage_data.astronaut())
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif.get_ifd(0x8825).update({1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)})  # GPS
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    assert b"PhoneMaker" in buffer.getvalue()
    return SimpleUploadedFile("me.jpg", buffer.getvalue(), content_type="image/jpeg")


def files_in(folder):
    return [path for path in folder.rglob("*") if path.is_file()]


def test_without_the_patients_request_no_photo_is_stored(client, media):
    client.post("/enhanced-face/", {"photo": photo_with_gps(), "photo_consent": "on"})
    assert not InteractionPhoto.objects.exists() and files_in(media) == []


def test_a_kept_photo_has_no_exif_or_gps(client, media):
    response = client.post("/enhanced-face/", {"photo": photo_with_gps(), "photo_consent": "on", "keep_photo": "on"})
    assert response.status_code == 302
    photo = InteractionPhoto.objects.get()
    stored = files_in(media)
    assert len(stored) == 1
    raw = stored[0].read_bytes()
    assert b"PhoneMaker" not in raw and b"Exif" not in raw
    assert not Image.open(stored[0]).getexif()
    assert photo.interaction.data["photo_kept"] is True


def test_erasing_the_person_deletes_their_kept_photo(client, media, django_capture_on_commit_callbacks):
    client.post("/enhanced-face/", {"photo": photo_with_gps(), "photo_consent": "on", "keep_photo": "on"})
    client.post("/contact/", CONTACT)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("gdpr_erase", "priya@example.com", "--yes", stdout=StringIO())
    assert not InteractionPhoto.objects.exists() and files_in(media) == []


def test_kept_photos_are_purged_after_the_retention_period(client, media, settings, django_capture_on_commit_callbacks):
    client.post("/enhanced-face/", {"photo": photo_with_gps(), "photo_consent": "on", "keep_photo": "on"})
    InteractionPhoto.objects.update(created_at=timezone.now() - timezone.timedelta(days=settings.PHOTO_RETENTION_DAYS + 1))
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_expired", stdout=out)
    assert "1 kept photos" in out.getvalue()
    assert not InteractionPhoto.objects.exists() and files_in(media) == []


def test_the_export_of_a_person_includes_their_kept_photo(client):
    import base64
    import json

    client.post("/enhanced-face/", {"photo": photo_with_gps(), "photo_consent": "on", "keep_photo": "on"})
    client.post("/contact/", CONTACT)
    out = StringIO()
    call_command("gdpr_export", "priya@example.com", stdout=out)
    photos = json.loads(out.getvalue())["photos"]
    assert len(photos) == 1
    assert Image.open(io.BytesIO(base64.b64decode(photos[0]["jpeg_base64"]))).size == (512, 512)


def test_the_photo_consent_becomes_a_consent_record_when_the_visitor_becomes_a_lead(client):
    from leads.models import Consent

    client.post("/enhanced-face/", {"photo": photo_with_gps(), "photo_consent": "on"})
    client.post("/contact/", CONTACT)
    purposes = sorted(Consent.objects.values_list("purpose", "text_version"))
    assert purposes == [("contact", "contact-v1"), ("photo_analysis", "photo-v1")]
    photo = Consent.objects.get(purpose="photo_analysis")
    assert "biometric" in photo.text and photo.created_at < Consent.objects.get(purpose="contact").created_at


def keep_a_photo(client):
    client.post("/enhanced-face/", {"photo": photo_with_gps(), "photo_consent": "on", "keep_photo": "on"})
    return InteractionPhoto.objects.get()


def test_a_rolled_back_erasure_leaves_the_photo_and_its_file(client, media, django_capture_on_commit_callbacks):
    from django.db import transaction

    from leads.gdpr import person_erase

    keep_a_photo(client)
    client.post("/contact/", CONTACT)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            person_erase(identifier="priya@example.com")
            raise RuntimeError("the database failed after the erasure")
    assert callbacks == []
    photo = InteractionPhoto.objects.get()
    assert len(files_in(media)) == 1 and photo.image.read()


def test_deleting_a_visitor_removes_their_photo_file_after_the_commit(client, media, django_capture_on_commit_callbacks):
    photo = keep_a_photo(client)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        photo.interaction.session.delete()
        assert len(files_in(media)) == 1  # not before the commit
    for callback in callbacks:
        callback()
    assert not InteractionPhoto.objects.exists() and files_in(media) == []
