"""The life of a kept face photo, in one place: kept only when the patient asks,
exported with their data, deleted with it, purged after PHOTO_RETENTION_DAYS.

A face photo is biometric data (GDPR Art. 9). Its file leaves the disk only once the
transaction that deleted its row has committed: deleted earlier, a rolled-back
erasure would leave a row pointing at nothing. Every road (erasure, the purge, a
cascade from a deleted visitor) deletes rows; the post_delete receiver below sees
each one, cascades included, and removes the file after the commit."""

import base64
import io
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q, QuerySet
from django.db.models.signals import post_delete
from django.dispatch import receiver
from PIL import Image

from interactions.models import InteractionPhoto, UserInteraction, UserSession


def photo_keep(*, interaction: UserInteraction, image: Image.Image) -> InteractionPhoto:
    """Store the photo the patient asked the clinic to keep. `image` is the validated,
    decoded upload (calculators.face.load_image): re-encoded here, so no EXIF, no GPS,
    no camera data, nothing the upload carried besides pixels is kept."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=90)
    return InteractionPhoto.objects.create(
        interaction=interaction, image=ContentFile(buffer.getvalue(), name=f"{uuid.uuid4()}.jpg")
    )


def photos_of(*, interactions: QuerySet[UserInteraction]) -> QuerySet[InteractionPhoto]:
    return InteractionPhoto.objects.filter(interaction__in=interactions)


def photos_export(*, interactions: QuerySet[UserInteraction]) -> list[dict]:
    """The person's kept photos for their data export (GDPR Art. 15/20)."""
    return [
        {"created_at": photo.created_at, "jpeg_base64": base64.b64encode(photo.image.read()).decode()}
        for photo in photos_of(interactions=interactions).order_by("created_at")
    ]


def photos_expired(*, now: datetime, stale_sessions: QuerySet[UserSession] | None = None) -> QuerySet[InteractionPhoto]:
    """Photos kept longer than PHOTO_RETENTION_DAYS, and those of visitors about to be purged."""
    expired = Q(created_at__lt=now - timedelta(days=settings.PHOTO_RETENTION_DAYS))
    if stale_sessions is not None:
        expired |= Q(interaction__session__in=stale_sessions)
    return InteractionPhoto.objects.filter(expired)


def photos_delete(*, photos: Iterable[InteractionPhoto] | QuerySet[InteractionPhoto]) -> int:
    """Delete the rows now; their files go after the commit (see the receiver below)."""
    if isinstance(photos, QuerySet):
        deleted, _ = photos.delete()
        return deleted
    count = 0
    for photo in photos:
        photo.delete()
        count += 1
    return count


@receiver(post_delete, sender=InteractionPhoto, dispatch_uid="interactions.photos.file_after_commit")
def _delete_file_after_commit(sender, instance: InteractionPhoto, using: str, **kwargs) -> None:
    name, storage = instance.image.name, instance.image.storage
    if name:
        transaction.on_commit(lambda: storage.delete(name), using=using)
