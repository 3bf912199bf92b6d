"""Face photo analysis for the clinic's skin check: find the one face in an upload
and score visible skin properties (redness, tone, spots, texture, shine, under-eye
darkness) from 0 to 100, each mapped to the treatment catalog's concern slugs.

These are measurements of a photo, not a medical diagnosis: lighting, camera and
make-up all move the numbers."""

import math
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO

import cv2
import numpy as np
from PIL import ExifTags, Image, ImageOps


class FaceAnalysisError(ValueError):
    """A photo we cannot analyse; str(error) is a message fit to show a patient."""


class InvalidImage(FaceAnalysisError):
    """Not an image, empty, corrupt, an unsupported format or too small."""


class ImageTooLarge(FaceAnalysisError):
    """More pixels than MAX_PIXELS: refused before decoding (decompression bombs)."""


class NoFaceFound(FaceAnalysisError):
    """No face, or a face too small to measure."""


class MultipleFaces(FaceAnalysisError):
    """More than one face in the photo."""


MAX_PIXELS = 40_000_000
MIN_FACE_PIXELS = 80  # face box side below this: too small to measure
MIN_IMAGE_SIDE = 100
# A phone's tallest portrait is about 9:20 and a face photo is never a strip; a
# 100 x 400,000 image would shrink to zero pixels wide for detection.
MAX_ASPECT_RATIO = 4
NOTABLE = 40  # a measure at or above this score points to its concerns
STRONG = 70  # a measure at or above this also points to its secondary concerns

# Formats browsers and phones actually upload. MPO is how Pillow reports many
# phone JPEGs (they carry a second, preview frame). HEIC would need pillow-heif.
ACCEPTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP"})

# Detection runs on a copy whose longest side is at most this: the cascade's cost
# grows with pixel count while its accuracy does not.
DETECTION_SIDE = 1024
# A photo larger than DETECTION_SIDE is searched at this size first, for about a
# third of the cascade's work at DETECTION_SIDE (measured on a 12-megapixel
# portrait); it is searched again at DETECTION_SIDE only when the faces found
# there are too small to rule out a second face that size could miss. Any smaller
# would cost more on the 12-megapixel test portrait: its face is 75 px here, so a
# second face SECOND_FACE_SHARE of its width (26 px) only just reaches
# CASCADE_WINDOW, and at a smaller size the search at DETECTION_SIDE would follow.
COARSE_SIDE = 512
# The cascade's own window: nothing smaller is found at any scale.
CASCADE_WINDOW = 24
# Beside the largest face, a face at least this share of its width is a second
# person; anything smaller is a pattern or a face in a picture on the wall.
SECOND_FACE_SHARE = 0.35
# Measurements run on the face box resized to this square, so that every score
# means the same thing whatever the photo's resolution. 160 px keeps fine detail
# (a freckle is still 1-2 px) without upscaling typical web-sized faces much.
FACE_SIZE = 160
# Dark spots are at most this wide at FACE_SIZE (about 5% of the face, 7-8 mm):
# larger dark areas are patches (uneven tone) or shadows.
SPOT_SIZE = 9


Box = tuple[int, int, int, int]  # x, y, width, height


@dataclass(frozen=True)
class Measure:
    key: str  # "redness", "uneven_tone", "dark_spots", "texture", "shine", "under_eye_darkness"
    label: str  # "Redness"
    score: int  # 0-100, higher = more visible
    explanation: str  # one plain-language sentence
    concerns: tuple[str, ...]  # concern slugs when notable (score >= NOTABLE), else ()


@dataclass(frozen=True)
class FaceAnalysis:
    face_box: Box  # in the upright (EXIF-rotated) image
    image_size: tuple[int, int]  # width, height of the upright image
    measures: tuple[Measure, ...]
    concerns: tuple[str, ...]  # union of the notable measures' concerns, most pronounced first


@dataclass(frozen=True)
class Photo:
    """A validated upload, upright, decoded at full size or (JPEG) at a reduced scale,
    for measuring: only its pixels are read, never stored (load_image is the copy to keep)."""

    image: Image.Image  # upright RGB; `size` or smaller; may still carry the upload's metadata
    size: tuple[int, int]  # width, height of the upright photo as uploaded

    @property
    def reduction(self) -> float:
        """How many of the photo's pixels one decoded pixel stands for, along each side."""
        return self.size[0] / self.image.width


_TOO_LARGE = "This photo is too large to process. Please upload a photo under 40 megapixels."


def load_image(data: bytes) -> Image.Image:
    """Open and fully validate an upload by its content (not its name or content type),
    apply the EXIF orientation, refuse decompression bombs, return an RGB image with no metadata."""
    return _decode(data, longest_side=None, as_rgb=_clean_rgb).image


def load_photo(data: bytes, *, longest_side: int | None = None) -> Photo:
    """load_image for measuring, but a JPEG larger than `longest_side` is decoded at the
    smallest of Pillow's draft scales (1/2, 1/4, 1/8) that still leaves its longest side
    at least `longest_side`: the decoder skips the detail instead of decoding it and
    throwing it away, in about half the time for a phone's 12-megapixel photo. Other
    formats, and every photo without `longest_side`, are decoded at full size. The
    header checks (format, pixel count, size, aspect) run first either way."""
    return _decode(data, longest_side=longest_side, as_rgb=_rgb)


def _decode(data: bytes, *, longest_side: int | None, as_rgb: Callable[[Image.Image], Image.Image]) -> Photo:
    """The checks and the decode of load_image and load_photo; `as_rgb` turns the
    upright decode into RGB (a clean copy to keep, or pixels to measure)."""
    if not data:
        raise InvalidImage("The file is empty. Please choose a photo to upload.")
    try:
        # Pillow only warns about a moderately oversized header (and refuses a
        # hugely oversized one); as an error, the warning stops the open at once.
        # (Scoped filters are process-wide before Python 3.14, so a concurrent
        # thread may briefly see this filter too: harmless, it only adds strictness.)
        with warnings.catch_warnings(action="error", category=Image.DecompressionBombWarning):
            probe = Image.open(BytesIO(data))
        with probe:
            _check_header(probe)
            # verify() checks structure and checksums without decoding pixels; it
            # leaves the image unusable, hence the second open below.
            probe.verify()
        with Image.open(BytesIO(data)) as image:
            size = image.size
            if longest_side and max(size) > longest_side:
                ratio = longest_side / max(size)
                # A no-op for formats without scaled decoding (PNG, WebP).
                image.draft("RGB", (math.ceil(size[0] * ratio), math.ceil(size[1] * ratio)))
            image.load()  # decode every pixel now: truncated files fail here
            if image.getexif().get(ExifTags.Base.Orientation) in _QUARTER_TURNS:
                size = size[::-1]
            ImageOps.exif_transpose(image, in_place=True)
            return Photo(image=as_rgb(image), size=size)
    except FaceAnalysisError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        # Pillow's own guard fired before our header check could.
        raise ImageTooLarge(_TOO_LARGE) from error
    except Exception as error:
        # Pillow's decoders raise many unrelated exception types (OSError,
        # SyntaxError, struct.error, zlib.error...) on hostile or broken input;
        # any of them means this upload is not a photo we can use.
        raise InvalidImage(
            "We could not open this file as a photo. Please upload a JPEG, PNG or WebP image."
        ) from error


# EXIF orientations that turn the stored image a quarter turn (width and height swap).
_QUARTER_TURNS = frozenset({5, 6, 7, 8})


def _check_header(image: Image.Image) -> None:
    """Refuse by what the header declares, before any pixel is decoded."""
    if image.format not in ACCEPTED_FORMATS:
        raise InvalidImage("Please upload a photo in JPEG, PNG or WebP format.")
    width, height = image.size
    # Checked here rather than by setting Image.MAX_IMAGE_PIXELS, which is global
    # to the process and would change every other use of Pillow.
    if width * height > MAX_PIXELS:
        raise ImageTooLarge(_TOO_LARGE)
    if min(width, height) < MIN_IMAGE_SIDE:
        raise InvalidImage("This photo is too small. Please upload a larger, clearer photo of your face.")
    if max(width, height) > MAX_ASPECT_RATIO * min(width, height):
        raise InvalidImage(
            "This photo is a very long, narrow strip. Please upload an ordinary photo of your face "
            f"(its longer side at most {MAX_ASPECT_RATIO} times its shorter side)."
        )


def _rgb(image: Image.Image) -> Image.Image:
    """The decoded pixels as RGB, for measuring: the decode itself when it already is
    (most JPEGs), else converted by _clean_rgb. Measured on a phone's 12-megapixel
    photo: 12 MB less to allocate and fill per analysis, and no page faults left in
    it (about 5,800 before), which cost most when the machine is busy."""
    if image.mode == "RGB" and "transparency" not in image.info:
        return image
    return _clean_rgb(image)


def _clean_rgb(image: Image.Image) -> Image.Image:
    """The pixels as RGB on a brand-new image, so no EXIF (GPS), ICC or text
    metadata survives. Pasting converts the mode without an extra full-size copy."""
    clean = Image.new("RGB", image.size, "white")
    if image.mode.startswith("I"):
        # 16-bit greyscale PNG: a plain conversion would clip everything above 255 to white.
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    if "A" in image.getbands() or "transparency" in image.info:
        # Transparent pixels hold arbitrary colours: let the white show instead.
        rgba = image.convert("RGBA")
        clean.paste(rgba, mask=rgba)
    else:
        clean.paste(image)
    return clean


# detectMultiScale is not thread-safe on a shared classifier, so each thread
# loads its own copy once and keeps it.
_per_thread = threading.local()


def _cascade(name: str) -> cv2.CascadeClassifier:
    if not hasattr(_per_thread, "cascades"):
        _per_thread.cascades = {}
    if name not in _per_thread.cascades:
        classifier = cv2.CascadeClassifier(cv2.data.haarcascades + name)
        if classifier.empty():
            raise RuntimeError(f"OpenCV cascade {name} could not be loaded")
        _per_thread.cascades[name] = classifier
    return _per_thread.cascades[name]


def _detect_faces(image: Image.Image, *, coarse_first: bool = False) -> list[Box]:
    """Face boxes in `image`'s coordinates, likely false positives removed, largest first."""
    if coarse_first:
        faces, smallest = _search(image, COARSE_SIDE)
        # Every face that could count beside the largest one was big enough to be
        # found at this size, so the finer search would change nothing.
        if faces and SECOND_FACE_SHARE * faces[0][2] >= smallest:
            return faces
    faces, _ = _search(image, DETECTION_SIDE)
    return faces


def _search(image: Image.Image, side: int) -> tuple[list[Box], float]:
    """Faces found on a copy whose longest side is at most `side` (in `image`'s
    coordinates), and the smallest face side that copy could show."""
    scale = min(1.0, side / max(image.size))
    # The face box, and every score with it, follows from this copy's exact pixels:
    # an equally good downscale (OpenCV's INTER_AREA) moved the portrait's box by
    # 8-16 px at phone sizes (a dark-spot score went from 11 to 51) and made the
    # cascade find a 636 px false face in a test photo.
    if scale < 1:
        image = image.resize(
            (max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.Resampling.BOX
        )
    # Equalising makes the cascade less sensitive to under- or over-exposure.
    grey = cv2.equalizeHist(np.asarray(image.convert("L")))
    # Half the measurable size: a face found but too small gets a useful message.
    smallest = max(CASCADE_WINDOW, round(MIN_FACE_PIXELS * scale / 2))
    found, _, confidence = _cascade("haarcascade_frontalface_default.xml").detectMultiScale3(
        grey,
        scaleFactor=1.1,  # finer steps (1.05) gave extra false positives on test photos
        minNeighbors=5,  # OpenCV's usual trade-off between misses and false hits
        minSize=(smallest, smallest),
        outputRejectLevels=True,  # also return each box's final-stage confidence
    )
    boxes = [tuple(round(v / scale) for v in box) for box in found]
    return _drop_false_positives(boxes, [float(c) for c in np.ravel(confidence)]), smallest / scale


def _drop_false_positives(boxes: list[Box], confidence: list[float]) -> list[Box]:
    if not boxes:
        return []
    # Face-like patterns in clothes or background pass the cascade only weakly and
    # at one scale; real faces in the same photo score alike. (The astronaut photo
    # enlarged 3x yields a patch of her suit at 1.0 next to her face at 4.5.)
    best = max(confidence)
    boxes = [box for box, score in zip(boxes, confidence) if score >= 0.5 * best]
    boxes.sort(key=lambda box: -box[2])
    largest = boxes[0]
    kept = [largest]
    for box in boxes[1:]:
        # A much smaller "face" is usually a pattern too, and one centred inside
        # the main face is a face feature (an eye, a nostril).
        if box[2] < SECOND_FACE_SHARE * largest[2] or _centre_inside(box, largest):
            continue
        kept.append(box)
    return kept


def _centre_inside(box: Box, outer: Box) -> bool:
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    return outer[0] <= cx <= outer[0] + outer[2] and outer[1] <= cy <= outer[1] + outer[3]


def _the_face(photo: Photo) -> Box:
    """The one face's box, in the photo's own (full-size) coordinates."""
    reduction = photo.reduction
    found = _detect_faces(photo.image, coarse_first=max(photo.size) > DETECTION_SIDE)
    faces = [tuple(round(v * reduction) for v in box) for box in found]
    if not faces:
        raise NoFaceFound(
            "We could not find a face in this photo. Please try again facing the camera "
            "straight on, in good even light, without sunglasses or a hat."
        )
    if len(faces) > 1:
        raise MultipleFaces(f"We found {len(faces)} faces; please upload a photo of just you.")
    x, y, w, h = faces[0]
    if min(w, h) < MIN_FACE_PIXELS:
        raise NoFaceFound(
            "Your face is too small in this photo to measure. Please take a closer photo, "
            "with your face filling most of the frame."
        )
    # Rounding back to full size can overhang the border by a pixel.
    x, y = max(0, x), max(0, y)
    return x, y, min(w, photo.size[0] - x), min(h, photo.size[1] - y)


# Face zones as (left, top, right, bottom) fractions of the detected box. OpenCV's
# frontal cascade frames the face from mid-forehead to the upper lip, with the eyes
# at about 37% of its height; these zones keep clear of brows, eyes, nostrils and mouth.
FOREHEAD = (0.35, 0.15, 0.65, 0.235)
NOSE = (0.43, 0.42, 0.57, 0.62)
CHEEKS = ((0.10, 0.53, 0.30, 0.70), (0.70, 0.53, 0.90, 0.70))
# Fallback eye centres when the eye cascade does not find a clean pair.
EYES = ((0.30, 0.37), (0.70, 0.37))
# Under-eye band relative to an eye centre: just below the lower lid.
UNDER_EYE = (-0.11, 0.07, 0.11, 0.15)


@dataclass(frozen=True)
class Regions:
    """Boolean masks over the FACE_SIZE crop: zone geometry intersected with skin."""

    forehead: np.ndarray
    nose: np.ndarray
    cheeks: np.ndarray
    under_eyes: np.ndarray

    @property
    def skin(self) -> np.ndarray:
        return self.forehead | self.nose | self.cheeks


def _zone(box: tuple[float, float, float, float]) -> np.ndarray:
    # Clamped: a negative index would wrap around to the far side of the face.
    left, top, right, bottom = (min(max(round(v * FACE_SIZE), 0), FACE_SIZE) for v in box)
    mask = np.zeros((FACE_SIZE, FACE_SIZE), bool)
    mask[top:bottom, left:right] = True
    return mask


def _eye_centres(face: np.ndarray) -> tuple[tuple[float, float], ...]:
    """Eye centres as fractions of the face box, from the eye cascade when it finds
    one eye on each side at a plausible height, else typical positions."""
    grey = cv2.equalizeHist(cv2.cvtColor(face, cv2.COLOR_RGB2GRAY))
    upper = grey[int(0.2 * FACE_SIZE) : int(0.6 * FACE_SIZE)]
    found = _cascade("haarcascade_eye.xml").detectMultiScale(
        upper, scaleFactor=1.1, minNeighbors=5, minSize=(FACE_SIZE // 8,) * 2, maxSize=(FACE_SIZE // 3,) * 2
    )
    centres = [((x + w / 2) / FACE_SIZE, (y + h / 2) / FACE_SIZE + 0.2) for x, y, w, h in found]
    left = [c for c in centres if 0.1 < c[0] < 0.45]
    right = [c for c in centres if 0.55 < c[0] < 0.9]
    if len(left) == 1 and len(right) == 1 and abs(left[0][1] - right[0][1]) < 0.1:
        return left[0], right[0]
    return EYES


def _skin_colour(face: np.ndarray, sample: np.ndarray) -> np.ndarray:
    """Pixels whose chroma looks like this person's skin.

    A wide fixed YCrCb range first rules out hair, background, clothes and eyes
    across skin tones; then pixels must also be near the median chroma of the
    cheeks and nose, which adapts to the person and to the light's colour cast."""
    ycrcb = cv2.cvtColor(face, cv2.COLOR_RGB2YCrCb).astype(np.int16)
    cr, cb = ycrcb[..., 1], ycrcb[..., 2]
    # Brightness (Y) is left out on purpose: highlights and shadows are still skin.
    broad = (cr >= 132) & (cr <= 185) & (cb >= 70) & (cb <= 135)
    reference = broad & sample
    if reference.sum() < 0.15 * sample.sum():
        # Black-and-white or heavily filtered photo: chroma says nothing, use geometry alone.
        return np.ones(face.shape[:2], bool)
    cr0, cb0 = np.median(cr[reference]), np.median(cb[reference])
    return broad & (np.abs(cr - cr0) <= 20) & (np.abs(cb - cb0) <= 20)


def _tidy(mask: np.ndarray) -> np.ndarray:
    """Fill holes smaller than a spot, then drop a one-pixel rim.

    The colour and darkness tests reject a dark spot's own pixels, yet spots are
    skin we want to measure; closing puts them back while large excluded areas
    (hair, brows) stay out. Eroding drops pixels where skin blends into hair."""
    element = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (SPOT_SIZE, SPOT_SIZE))
    closed = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_CLOSE, element)
    return cv2.erode(closed, np.ones((3, 3), np.uint8)).astype(bool)


def _regions(face: np.ndarray, lightness: np.ndarray) -> Regions:
    cheeks = _zone(CHEEKS[0]) | _zone(CHEEKS[1])
    nose = _zone(NOSE)
    skin = _skin_colour(face, cheeks | nose)
    # Blond and brown hair has skin-like chroma, so a fringe over the forehead or
    # hair at the cheeks' edge passes the colour test; it is told apart by being far
    # darker than the skin. 20 L* units below typical skin keeps real dark patches
    # (melasma is usually 5-15 units darker) and drops hair and deep shadow.
    reference = lightness[(cheeks | nose) & skin]
    typical = np.median(reference) if reference.size else 0.0
    bare = skin & (lightness >= typical - 20)
    under = np.zeros_like(skin)
    for cx, cy in _eye_centres(face):
        dx0, dy0, dx1, dy1 = UNDER_EYE
        under |= _zone((cx + dx0, cy + dy0, cx + dx1, cy + dy1))
    return Regions(
        forehead=_tidy(_zone(FOREHEAD) & bare),
        nose=_tidy(nose & bare),
        cheeks=_tidy(cheeks & bare),
        # No darkness test here: the darkness is what we measure under the eyes.
        under_eyes=_tidy(under & skin),
    )


def _masked_blur(values: np.ndarray, mask: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian local mean over the masked pixels only (normalised convolution), so
    eyebrows, hair or background next to a zone never leak into its local mean."""
    weight = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), sigma)
    total = cv2.GaussianBlur(np.where(mask, values, 0).astype(np.float32), (0, 0), sigma)
    return total / np.maximum(weight, 1e-6)


def _scale(value: float, low: float, high: float) -> int:
    """Linear calibration: `low` maps to 0, `high` to 100, clamped."""
    return int(round(float(np.clip((value - low) / (high - low), 0, 1)) * 100))


def _lab(face: np.ndarray) -> np.ndarray:
    """CIELAB with L* in 0-100 and a*, b* centred on 0 (float input keeps real units)."""
    return cv2.cvtColor(face.astype(np.float32) / 255, cv2.COLOR_RGB2Lab)


def _redness(lab: np.ndarray, regions: Regions) -> float:
    """Mean a* (green-red axis) of cheek and nose skin, where flushing shows.
    a* is the usual photographic proxy for erythema."""
    return float(lab[..., 1][regions.cheeks | regions.nose].mean())


def _uneven_tone(lab: np.ndarray, regions: Regions) -> float:
    """Typical mid-scale colour variation over the skin, in ΔE (Lab) units.

    Subtracting a wide local mean removes lighting gradients across the face; a
    light pre-blur removes pores and noise, which belong to texture instead.
    All three Lab channels count, since blotchy redness or brown patches are
    uneven tone too. The interquartile range (as a robust standard deviation)
    ignores the few pixels at the edges of hair or creases."""
    skin = regions.skin
    spreads = []
    for channel in range(3):
        detail = _masked_blur(lab[..., channel], skin, 1.5) - _masked_blur(lab[..., channel], skin, 8)
        q1, q3 = np.percentile(detail[skin], [25, 75])
        spreads.append((q3 - q1) / 1.349)
    return float(np.hypot.reduce(spreads))


def _dark_spots(lab: np.ndarray, regions: Regions) -> float:
    """Percentage of skin covered by small, compact blobs clearly darker than their surroundings.

    A morphological black-hat (closing minus image) lights up only dark features
    narrower than SPOT_SIZE: shading and the edge of hair or a crease are left at
    zero, which a "darker than the local mean" test would not do."""
    skin = regions.skin
    lightness = cv2.GaussianBlur(lab[..., 0], (0, 0), 0.7)  # lose single-pixel JPEG noise
    element = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (SPOT_SIZE, SPOT_SIZE))
    depth = cv2.morphologyEx(lightness, cv2.MORPH_BLACKHAT, element)
    # 3 L* units: a visible spot, while skin grain and JPEG noise stay below it.
    darker = (depth > 3) & skin
    _, labels, stats, _ = cv2.connectedComponentsWithStats(darker.astype(np.uint8), connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    extents = np.maximum(stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT])
    # Compact blobs only: a blob fills a good part of the square on its longest
    # side (a disc fills 79%), a crease, hair or a zone edge does not (a 1x5 line
    # fills 20%). Single pixels are noise.
    compact = areas >= 0.4 * extents**2
    spots = np.flatnonzero((areas >= 2) & (extents <= SPOT_SIZE) & compact) + 1
    return 100 * np.isin(labels, spots).sum() / max(int(skin.sum()), 1)


def _texture(lab: np.ndarray, regions: Regions) -> float:
    """Fine-detail contrast, in percent of local brightness, on the forehead, under
    the eyes and on the cheeks, where fine lines and pores show.

    The detail is lightness minus its own small-scale local mean (features under
    ~2% of face width); dividing by the local mean makes it a contrast, so a
    brighter photo of the same skin scores the same."""
    area = regions.forehead | regions.under_eyes | regions.cheeks
    lightness = lab[..., 0]
    local = _masked_blur(lightness, area, 1.5)
    contrast = (lightness - local) / np.maximum(local, 5)
    return float(100 * np.sqrt(np.mean(contrast[area] ** 2)))


def _shine(face: np.ndarray, regions: Regions) -> float:
    """Percentage of the forehead, nose and cheek zones showing specular highlights:
    near-white pixels, much brighter and far less saturated than the person's skin.

    Highlights fail the skin-colour test, so they are counted over the zones' full
    area, against the typical skin within them."""
    hsv = cv2.cvtColor(face, cv2.COLOR_RGB2HSV).astype(np.float32)
    saturation, value = hsv[..., 1], hsv[..., 2]
    skin = regions.skin
    typical_s, typical_v = np.median(saturation[skin]), np.median(value[skin])
    if typical_s < 15:
        # A black-and-white photo: a highlight cannot be told from light skin.
        return 0.0
    zones = _zone(FOREHEAD) | _zone(NOSE) | _zone(CHEEKS[0]) | _zone(CHEEKS[1])
    # Halfway from typical skin brightness to pure white, and at most half as saturated.
    specular = zones & (value >= max(200, (typical_v + 255) / 2)) & (saturation <= 0.5 * typical_s)
    return 100 * specular.sum() / max(int((specular | skin).sum()), 1)


def _under_eye_darkness(lab: np.ndarray, regions: Regions) -> float:
    """How many L* units the skin under the eyes is darker than the cheeks (medians)."""
    if not regions.under_eyes.any() or not regions.cheeks.any():
        return 0.0
    lightness = lab[..., 0]
    return float(np.median(lightness[regions.cheeks]) - np.median(lightness[regions.under_eyes]))


@dataclass(frozen=True)
class _Spec:
    key: str
    label: str
    low: float  # raw value that scores 0
    high: float  # raw value that scores 100
    concerns: tuple[str, ...]
    strong_concerns: tuple[str, ...]
    texts: tuple[str, str, str]  # low, notable, strong


# Calibration: `low` is roughly what smooth, even, matte skin in a good photo gives,
# `high` what a pronounced case gives. Checked against the public-domain astronaut
# portrait (skimage.data.astronaut), which lands in the plausible low-to-middle range.
SPECS: dict[str, _Spec] = {
    spec.key: spec
    for spec in (
        _Spec(
            "redness", "Redness", 6, 20, ("redness",), (),
            ("Little visible redness on the cheeks and nose.",
             "Some redness around the cheeks and nose.",
             "Clear redness across the cheeks and nose."),
        ),
        _Spec(
            "uneven_tone", "Uneven tone", 1.5, 6.5, ("uneven_tone",), ("pigmentation",),
            ("Skin tone looks fairly even.",
             "Some patchy, uneven tone across the skin.",
             "Noticeably patchy skin tone, with lighter and darker areas."),
        ),
        _Spec(
            "dark_spots", "Dark spots", 0.0, 3.0, ("pigmentation",), (),
            ("Few or no small dark spots.",
             "Some small dark spots or freckles.",
             "Many small dark spots or freckles."),
        ),
        _Spec(
            "texture", "Texture", 0.8, 4.0, ("texture", "fine_lines"), ("enlarged_pores",),
            ("The skin surface looks smooth in this photo.",
             "Some fine texture or fine lines on the forehead, cheeks or under the eyes.",
             "Visible texture and fine lines on the forehead, cheeks or under the eyes."),
        ),
        _Spec(
            "shine", "Shine", 0.5, 10.0, ("oiliness",), (),
            ("Little shine on the skin.",
             "Some shine on the forehead, nose or cheeks.",
             "Clear shine on the forehead, nose or cheeks, often a sign of oily skin."),
        ),
        _Spec(
            "under_eye_darkness", "Under-eye darkness", 0.0, 12.0, ("dark_circles",), (),
            ("The skin under the eyes is about as light as the cheeks.",
             "The skin under the eyes is somewhat darker than the cheeks.",
             "The skin under the eyes is clearly darker than the cheeks."),
        ),
    )
}  # fmt: skip


# Fewer bare cheek and nose pixels than this (a tenth of those zones) is too little
# skin to measure: a mask, a hand, a scarf or a strong colour filter.
MIN_SKIN_PIXELS = 240


def _raw_measures(face: np.ndarray) -> dict[str, float]:
    lab = _lab(face)
    regions = _regions(face, lab[..., 0])
    if (regions.cheeks | regions.nose).sum() < MIN_SKIN_PIXELS:
        raise NoFaceFound(
            "We could not see enough skin to measure. Please try again without a filter, "
            "facing the camera straight on in good even light."
        )
    return {
        "redness": _redness(lab, regions),
        "uneven_tone": _uneven_tone(lab, regions),
        "dark_spots": _dark_spots(lab, regions),
        "texture": _texture(lab, regions),
        "shine": _shine(face, regions),
        "under_eye_darkness": _under_eye_darkness(lab, regions),
    }


def _measure(spec: _Spec, raw: float) -> Measure:
    score = _scale(raw, spec.low, spec.high)
    level = 2 if score >= STRONG else 1 if score >= NOTABLE else 0
    concerns = () if level == 0 else spec.concerns + (spec.strong_concerns if level == 2 else ())
    return Measure(spec.key, spec.label, score, spec.texts[level], concerns)


def _face_crop(photo: Photo, box: Box, data: bytes) -> np.ndarray:
    """The face box at FACE_SIZE, from pixels where the face is at least FACE_SIZE
    wide: a face too small in a reduced decode is decoded again, as finely as it
    needs, so the measurements never see less detail than the upload had."""
    if photo.reduction > 1 and box[2] < FACE_SIZE * photo.reduction:
        photo = load_photo(data, longest_side=math.ceil(max(photo.size) * FACE_SIZE / box[2]))
    reduction = photo.reduction
    x, y, w, h = (round(v / reduction) for v in box)
    w, h = min(w, photo.image.width - x), min(h, photo.image.height - y)
    crop = np.asarray(photo.image.crop((x, y, x + w, y + h)))
    # Area averaging when shrinking avoids aliasing that would read as texture.
    interpolation = cv2.INTER_AREA if w > FACE_SIZE else cv2.INTER_CUBIC
    return cv2.resize(crop, (FACE_SIZE, FACE_SIZE), interpolation=interpolation)


def analyse_face(data: bytes) -> FaceAnalysis:
    """Find the single face in an uploaded photo and score its visible skin properties.

    Raises a FaceAnalysisError subclass, with a patient-facing message, when the
    upload is not a usable photo of exactly one face."""
    photo = load_photo(data, longest_side=DETECTION_SIDE)
    box = _the_face(photo)
    raw = _raw_measures(_face_crop(photo, box, data))
    measures = tuple(_measure(SPECS[key], value) for key, value in raw.items())
    concerns: dict[str, None] = {}
    for measure in sorted(measures, key=lambda m: -m.score):
        concerns.update(dict.fromkeys(measure.concerns))
    return FaceAnalysis(face_box=box, image_size=photo.size, measures=measures, concerns=tuple(concerns))
