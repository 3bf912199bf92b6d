"""Face photo analysis: real measurements on a real portrait, and refusal of bad uploads.

The portrait is scikit-image's public-domain astronaut photo (one face, found by
OpenCV's frontal cascade at about (177, 66, 95, 95)); photos are encoded at test time."""

import dataclasses
import io
import json
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import ExifTags, Image, ImageFile, PngImagePlugin
from skimage import data

from calculators import face
from calculators.face import (
    DETECTION_SIDE,
    FACE_SIZE,
    MAX_PIXELS,
    NOTABLE,
    FaceAnalysis,
    FaceAnalysisError,
    ImageTooLarge,
    InvalidImage,
    MultipleFaces,
    NoFaceFound,
    analyse_face,
    load_image,
    load_photo,
)
from tests.calculators.photos import jpeg, large_portrait, large_portrait_jpeg

ASTRONAUT_BOX = (177, 66, 95, 95)
MEASURES = {"redness", "uneven_tone", "dark_spots", "texture", "shine", "under_eye_darkness"}
CONCERNS = {
    "redness", "pigmentation", "uneven_tone", "fine_lines", "wrinkles",
    "texture", "enlarged_pores", "oiliness", "dark_circles",
}  # fmt: skip


def encode(pixels: np.ndarray | Image.Image, fmt: str = "PNG", **options) -> bytes:
    image = pixels if isinstance(pixels, Image.Image) else Image.fromarray(pixels)
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def scores(analysis: FaceAnalysis) -> dict[str, int]:
    return {measure.key: measure.score for measure in analysis.measures}


def face_part(left: float, top: float, right: float, bottom: float) -> tuple[slice, slice]:
    """Array index for a part of the astronaut's face, in fractions of her face box."""
    x, y, w, h = ASTRONAUT_BOX
    return slice(y + round(top * h), y + round(bottom * h)), slice(x + round(left * w), x + round(right * w))


def at(fx: float, fy: float) -> tuple[int, int]:
    """Pixel (x, y) at a fraction of the astronaut's face box."""
    x, y, w, h = ASTRONAUT_BOX
    return x + round(fx * w), y + round(fy * h)


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return data.astronaut()


@pytest.fixture(scope="module")
def baseline(astronaut) -> dict[str, int]:
    return scores(analyse_face(encode(astronaut)))


@pytest.mark.parametrize(("fmt", "options"), [("PNG", {}), ("JPEG", {"quality": 90})])
def test_astronaut_has_one_face_and_six_measures(astronaut, fmt, options):
    analysis = analyse_face(encode(astronaut, fmt, **options))

    assert analysis.image_size == (512, 512)
    assert np.allclose(analysis.face_box, ASTRONAUT_BOX, atol=6)
    assert {measure.key for measure in analysis.measures} == MEASURES
    for measure in analysis.measures:
        assert 0 <= measure.score <= 100
        assert measure.label and measure.explanation.endswith(".")
        assert set(measure.concerns) <= CONCERNS
        assert bool(measure.concerns) == (measure.score >= NOTABLE)
    assert json.loads(json.dumps(dataclasses.asdict(analysis)))  # plain ints and strings


def test_astronaut_scores_are_plausible_not_degenerate(baseline):
    assert len(set(baseline.values())) >= 4
    assert not all(score in (0, 100) for score in baseline.values())
    # A healthy, evenly lit portrait: no measure should read as pronounced.
    assert max(baseline.values()) < 70


def test_concerns_are_the_notable_measures_most_pronounced_first(astronaut):
    analysis = analyse_face(encode(red_tint(astronaut)))

    notable = sorted((m for m in analysis.measures if m.score >= NOTABLE), key=lambda m: -m.score)
    expected = list(dict.fromkeys(slug for measure in notable for slug in measure.concerns))
    assert list(analysis.concerns) == expected
    assert analysis.concerns[0] == "redness"


def test_coffee_has_no_face():
    with pytest.raises(NoFaceFound, match="could not find a face"):
        analyse_face(encode(data.coffee(), "JPEG"))


def test_two_people_side_by_side_are_refused(astronaut):
    pair = np.concatenate([astronaut, astronaut[:, ::-1]], axis=1)
    with pytest.raises(MultipleFaces, match="found 2 faces"):
        analyse_face(encode(pair))


def test_a_face_too_small_to_measure_is_refused(astronaut):
    # At 70% the face box is about 66 px, under MIN_FACE_PIXELS.
    small = cv2.resize(astronaut, None, fx=0.7, fy=0.7, interpolation=cv2.INTER_AREA)
    with pytest.raises(NoFaceFound, match="too small"):
        analyse_face(encode(small))


def test_large_photo_reports_the_face_in_its_own_coordinates(astronaut, baseline):
    large = cv2.resize(astronaut, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)
    analysis = analyse_face(encode(large, "JPEG", quality=92))

    assert analysis.image_size == (1536, 1536)
    assert np.allclose(analysis.face_box, [3 * v for v in ASTRONAUT_BOX], atol=15)
    # Measured on a normalised face crop, so resolution barely moves the scores.
    for key, score in scores(analysis).items():
        assert abs(score - baseline[key]) <= 15, key


def findings(analysis: FaceAnalysis) -> tuple[tuple[str, ...], set[str]]:
    """What the patient is told: the concerns, and which measures are notable."""
    return analysis.concerns, {m.key for m in analysis.measures if m.score >= NOTABLE}


@pytest.fixture(scope="module")
def phone_photo() -> bytes:
    return large_portrait_jpeg()  # 4000 x 3000, the face about 574 px wide


def decoded_sizes(monkeypatch) -> list[tuple[int, int]]:
    """The size of every image the face analysis decodes from now on."""
    sizes = []

    def recording(data, **options):
        photo = load_photo(data, **options)
        sizes.append(photo.image.size)
        return photo

    monkeypatch.setattr(face, "load_photo", recording)
    return sizes


def test_a_twelve_megapixel_jpeg_gives_the_findings_of_the_same_photo_at_normal_size(astronaut, phone_photo):
    normal = analyse_face(jpeg(astronaut))
    large = analyse_face(phone_photo)

    assert large.image_size == (4000, 3000)
    scale, left = 3000 / 512, 500  # the portrait enlarged to 3000 px, centred in 4000
    expected = (left + ASTRONAUT_BOX[0] * scale, ASTRONAUT_BOX[1] * scale, *(v * scale for v in ASTRONAUT_BOX[2:]))
    assert np.allclose(large.face_box, expected, atol=0.06 * expected[2])
    assert findings(large) == findings(normal)
    for key, score in scores(large).items():
        assert abs(score - scores(normal)[key]) <= 20, key


def test_a_large_jpeg_is_decoded_at_a_reduced_scale_for_the_analysis(monkeypatch, phone_photo):
    sizes = decoded_sizes(monkeypatch)

    analysis = analyse_face(phone_photo)

    # Half size: the largest draft scale leaving the detection size (1024) covered;
    # the face is then about 287 px wide, more than the measurements' FACE_SIZE.
    assert sizes == [(2000, 1500)]
    assert analysis.image_size == (4000, 3000)
    assert analysis.face_box[2] / 2 > FACE_SIZE


def test_a_photo_up_to_the_detection_size_is_decoded_whole(monkeypatch, astronaut):
    sizes = decoded_sizes(monkeypatch)
    analyse_face(jpeg(cv2.resize(astronaut, (DETECTION_SIDE, DETECTION_SIDE), interpolation=cv2.INTER_CUBIC)))
    assert sizes == [(DETECTION_SIDE, DETECTION_SIDE)]


def test_a_large_jpeg_for_keeping_is_decoded_whole(phone_photo):
    assert load_image(phone_photo).size == (4000, 3000)


def test_a_small_face_in_a_large_jpeg_is_measured_from_the_whole_photo(monkeypatch, astronaut):
    # The portrait at 768 px in a 3072 x 2304 photo (its edges carried out to the
    # frame): her face, about 150 px, would be about 75 px in the half-size decode,
    # under FACE_SIZE, so it is decoded again whole and cropped as before.
    portrait = cv2.resize(astronaut, (768, 768), interpolation=cv2.INTER_CUBIC)
    upload = jpeg(cv2.copyMakeBorder(portrait, 768, 768, 1152, 1152, cv2.BORDER_REPLICATE))
    sizes = decoded_sizes(monkeypatch)

    analysis = analyse_face(upload)

    assert sizes == [(1536, 1152), (3072, 2304)]
    assert np.allclose(analysis.face_box, (1152 + 177 * 1.5, 768 + 66 * 1.5, 95 * 1.5, 95 * 1.5), atol=15)
    reduced, whole = load_photo(upload, longest_side=DETECTION_SIDE), load_photo(upload)
    crop = face._face_crop(reduced, analysis.face_box, upload)
    assert np.array_equal(crop, face._face_crop(whole, analysis.face_box, upload))


def test_exif_orientation_is_applied_to_a_reduced_decode(monkeypatch):
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # "rotate 90° clockwise to display"
    sideways = Image.fromarray(large_portrait()).transpose(Image.Transpose.ROTATE_90)  # stored 3000 x 4000
    sizes = decoded_sizes(monkeypatch)

    analysis = analyse_face(jpeg(sideways, exif=exif))

    assert sizes == [(2000, 1500)]  # upright
    assert analysis.image_size == (4000, 3000)
    assert np.allclose(analysis.face_box[:2], (500 + 177 * 3000 / 512, 66 * 3000 / 512), atol=40)


def test_a_truncated_large_jpeg_is_refused_by_the_reduced_decode_too(phone_photo):
    with pytest.raises(InvalidImage, match="could not open this file"):
        analyse_face(phone_photo[: len(phone_photo) // 2])


def red_tint(pixels: np.ndarray) -> np.ndarray:
    tinted = pixels.astype(np.float32)
    tinted[face_part(-0.1, 0, 1.1, 1)] *= (1.12, 0.92, 0.92)
    return np.clip(tinted, 0, 255).astype(np.uint8)


def dark_dots_on_cheeks(pixels: np.ndarray) -> np.ndarray:
    dotted = pixels.copy()
    for fx in (0.14, 0.2, 0.26, 0.74, 0.8, 0.86):
        for fy in (0.57, 0.63):
            x, y = at(fx, fy)
            cv2.circle(dotted, (x, y), 1, tuple(int(v) for v in pixels[y, x] * 0.6), -1)
    return dotted


def highlights(pixels: np.ndarray) -> np.ndarray:
    shiny = pixels.copy()
    for fx, fy in [(0.5, 0.19), (0.5, 0.5), (0.2, 0.61), (0.8, 0.61)]:
        cv2.circle(shiny, at(fx, fy), 3, (250, 248, 245), -1)
    return shiny


def darker_under_eyes(pixels: np.ndarray) -> np.ndarray:
    shaded = pixels.astype(np.float32)
    for left, right in [(0.15, 0.42), (0.58, 0.85)]:
        shaded[face_part(left, 0.43, right, 0.52)] *= 0.8
    return np.clip(shaded, 0, 255).astype(np.uint8)


@pytest.mark.parametrize(
    ("key", "change"),
    [
        ("redness", red_tint),
        ("dark_spots", dark_dots_on_cheeks),
        ("shine", highlights),
        ("under_eye_darkness", darker_under_eyes),
    ],
)
def test_measure_rises_with_the_property_it_claims(astronaut, baseline, key, change):
    changed = scores(analyse_face(encode(change(astronaut))))
    assert changed[key] >= baseline[key] + 25, (baseline, changed)


def test_blurring_the_face_lowers_texture_but_not_redness(astronaut, baseline):
    blurred = astronaut.copy()
    part = face_part(-0.1, -0.1, 1.1, 1.1)
    blurred[part] = cv2.GaussianBlur(blurred[part], (0, 0), 2)
    changed = scores(analyse_face(encode(blurred)))

    assert changed["texture"] <= baseline["texture"] - 10, (baseline, changed)
    assert abs(changed["redness"] - baseline["redness"]) <= 5


def test_exif_orientation_is_applied(astronaut):
    upright = Image.fromarray(astronaut).crop((0, 0, 512, 400))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # "rotate 90° clockwise to display", as phones write
    sideways = upright.transpose(Image.Transpose.ROTATE_90)

    analysis = analyse_face(encode(sideways, "JPEG", quality=95, exif=exif))

    assert analysis.image_size == (512, 400)
    assert np.allclose(analysis.face_box, ASTRONAUT_BOX, atol=6)
    with pytest.raises(NoFaceFound):  # the same pixels without the tag: no upright face
        analyse_face(encode(sideways, "JPEG", quality=95))


def test_load_image_strips_metadata(astronaut):
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (51.0, 30.0, 12.5)
    jpeg = encode(astronaut, "JPEG", exif=exif, icc_profile=b"not really a profile")
    assert Image.open(io.BytesIO(jpeg)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # it is there to strip

    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "home address")
    png = encode(astronaut, "PNG", pnginfo=text, exif=exif)

    for upload in (jpeg, png):
        image = load_image(upload)
        assert image.mode == "RGB" and image.size == (512, 512)
        assert image.info == {}
        assert len(image.getexif()) == 0
        assert not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)


def test_transparent_png_is_flattened_to_rgb(astronaut):
    rgba = np.dstack([astronaut, np.full(astronaut.shape[:2], 255, np.uint8)])
    rgba[:50, :50, 3] = 0
    image = load_image(encode(rgba))
    assert image.mode == "RGB"
    assert image.getpixel((10, 10)) == (255, 255, 255)


GREEN = (0, 254, 0)


@pytest.mark.parametrize(
    "upload",
    [
        pytest.param(
            lambda pixels: encode(np.dstack([pixels, np.where((pixels == GREEN).all(axis=2), 0, 255).astype(np.uint8)])),
            id="rgba",
        ),
        pytest.param(lambda pixels: encode(pixels, transparency=GREEN), id="rgb-with-a-transparent-colour"),
    ],
)
def test_the_analysis_sees_transparent_pixels_as_white_too(astronaut, upload):
    # The analysis measures the decode itself when it is plain RGB; anything
    # transparent still goes through the same flattening as a kept photo.
    pixels = astronaut.copy()
    pixels[:50, :50] = GREEN
    photo = load_photo(upload(pixels))
    assert photo.image.mode == "RGB"
    assert photo.image.getpixel((10, 10)) == (255, 255, 255)
    assert np.array_equal(np.asarray(photo.image), np.asarray(load_image(upload(pixels))))


def test_a_jpeg_is_measured_from_its_own_decode_and_kept_as_a_clean_copy(astronaut):
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    upload = encode(astronaut, "JPEG", exif=exif)
    measured, kept = load_photo(upload).image, load_image(upload)
    assert np.array_equal(np.asarray(measured), np.asarray(kept))
    assert kept.info == {} and len(kept.getexif()) == 0


def test_sixteen_bit_greyscale_keeps_its_tones(astronaut):
    grey = cv2.cvtColor(astronaut, cv2.COLOR_RGB2GRAY)
    image = load_image(encode(Image.fromarray(grey.astype(np.uint16) * 257)))
    assert image.mode == "RGB"
    assert np.abs(np.asarray(image)[..., 0].astype(int) - grey).max() <= 1


def truncated_jpeg() -> bytes:
    whole = encode(data.astronaut(), "JPEG")
    return whole[: len(whole) // 2]


@pytest.mark.parametrize(
    "upload",
    [
        pytest.param(lambda: b"", id="empty"),
        pytest.param(lambda: b"<?php echo 1; ?>", id="php-named-jpg"),
        pytest.param(truncated_jpeg, id="truncated-jpeg"),
        pytest.param(lambda: encode(np.zeros((10, 10, 3), np.uint8)), id="tiny"),
        pytest.param(lambda: encode(data.astronaut()[:200, :200], "GIF"), id="unsupported-gif"),
    ],
)
def test_bad_uploads_are_invalid_images(upload):
    with pytest.raises(InvalidImage) as caught:
        analyse_face(upload())
    assert isinstance(caught.value, FaceAnalysisError) and isinstance(caught.value, ValueError)
    message = str(caught.value)
    assert message[0].isupper() and "PIL" not in message and "cannot identify" not in message


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height 1-bit pixels, with almost no data."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def real_bomb() -> bytes:
    """A complete, valid 48-megapixel PNG of nothing: 6 MB to build, about 6 kB on disk."""
    size = (8000, 6000)
    assert size[0] * size[1] > MAX_PIXELS
    return encode(Image.new("1", size))


@pytest.mark.parametrize(
    "upload",
    [
        pytest.param(real_bomb, id="valid-48mp-png"),
        pytest.param(lambda: png_declaring(8000, 8000), id="header-64mp"),
        pytest.param(lambda: png_declaring(12_000, 12_000), id="header-144mp-pillow-warns"),
        pytest.param(lambda: png_declaring(50_000, 50_000), id="header-2500mp-pillow-refuses"),
    ],
)
def test_decompression_bombs_are_refused_without_decoding(monkeypatch, upload):
    payload = upload()
    assert len(payload) < 100_000

    def never_decode(self):
        raise AssertionError("a bomb's pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", never_decode)
    with pytest.raises(ImageTooLarge, match="too large"):
        load_image(payload)


@pytest.mark.parametrize("size", [(100, 400_000), (400_000, 100), (100, 401), (2000, 400)])
def test_a_long_narrow_strip_is_refused_in_plain_words_before_decoding(size):
    # 100 x 400,000 is under MAX_PIXELS and about 10 KB as PNG, but shrinks to zero
    # pixels wide for detection (OpenCV: "height and width must be > 0").
    with pytest.raises(InvalidImage, match="long, narrow strip"):
        analyse_face(encode(Image.new("1", size, 1), optimize=True))


def test_a_tall_phone_portrait_is_not_a_strip(astronaut):
    tall = np.concatenate([astronaut, np.full((1000, 512, 3), 255, np.uint8)], axis=0)  # 512 x 1512
    assert analyse_face(encode(tall, "JPEG")).face_box
