"""Test photos built at run time from scikit-image's public-domain astronaut portrait
(offline): the portrait at its own size, and the same portrait as a phone's
12-megapixel JPEG. The benchmark times the face analysis on the latter."""

import io

import cv2
import numpy as np
from PIL import Image
from skimage import data

PORTRAIT_SIDE = 512  # the astronaut is 512 x 512, her face about (177, 66, 95, 95)


def jpeg(pixels: np.ndarray | Image.Image, **options) -> bytes:
    image = pixels if isinstance(pixels, Image.Image) else Image.fromarray(pixels)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **{"quality": 92, **options})
    return buffer.getvalue()


def large_portrait(width: int = 4000, height: int = 3000) -> np.ndarray:
    """The portrait enlarged to `height` (bicubic), centred on a white `width` x
    `height` landscape frame: a 4000 x 3000 phone photo by default, her face about
    574 px wide."""
    side = height
    enlarged = cv2.resize(data.astronaut(), (side, side), interpolation=cv2.INTER_CUBIC)
    frame = np.full((height, width, 3), 255, np.uint8)
    left = (width - side) // 2
    frame[:, left : left + side] = enlarged
    return frame


def large_portrait_jpeg(width: int = 4000, height: int = 3000, **options) -> bytes:
    """large_portrait as a JPEG (quality 92 unless given), about 0.9 MB."""
    return jpeg(large_portrait(width, height), **options)
