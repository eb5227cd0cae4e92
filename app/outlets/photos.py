"""A crew member's photo: checked as a permit photo when it is uploaded, and kept across a form
sent back for another field's error.

What the permit needs (app/documents/permits.py): a box of PHOTO_WIDTH x PHOTO_HEIGHT mm
(27 x 36 mm, 3:4 like a passport photo), rendered at PHOTO_DPI (300 dpi), so 319 x 425 pixels.
A smaller photo would be enlarged and print blurred: that is the minimum. The permit crops the
photo to 3:4 (centred a little high); a portrait photo whose proportions are close to 3:4 loses
little to the crop, a landscape or square one would lose the sides of the face or the top of
the head, so it is refused with its own message.

Kept photos: when the crew-member form comes back with an error, the photo it carried (if it
passed the checks) is stored at once, outside the transaction (uploads.stage_received), and the
page carries a signed token naming it, bound to the user, valid KEPT_PHOTO_MAX_AGE_SECONDS. No
row names the file until the form succeeds; `flask uploads sweep` removes it if it never does.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.documents.permits import PHOTO_DPI, PHOTO_HEIGHT, PHOTO_WIDTH
from app.uploads import (KIND_BY_CONTENT_TYPE, STORED_NAME, SWEEP_MIN_AGE_SECONDS, ReceivedFile, StoredFile,
                         UploadError, detected_content_type, stored_path, upright_image_size)

MM_PER_INCH = 25.4
# The photo as the permit prints it, in pixels: 319 x 425 (27 x 36 mm at 300 dpi).
PHOTO_MIN_WIDTH_PX = round(PHOTO_WIDTH / MM_PER_INCH * PHOTO_DPI)
PHOTO_MIN_HEIGHT_PX = round(PHOTO_HEIGHT / MM_PER_INCH * PHOTO_DPI)
# Width / height accepted: from 9:16 (a phone held upright; the crop takes a quarter of the
# height) to 0.85 (the crop takes about an eighth of the width). Squarer is not a portrait.
PHOTO_MIN_ASPECT = 9 / 16
PHOTO_MAX_ASPECT = 0.85
# A kept photo's token lives half as long as the sweep's minimum age, so the sweep never deletes a
# file that a live token names (a token is never renewed: the page sends the same one back).
KEPT_PHOTO_MAX_AGE_SECONDS = SWEEP_MIN_AGE_SECONDS // 2
KEPT_PHOTO_SALT = "pressdesk.crew.kept-photo"
MAX_TOKEN_LENGTH = 1000  # a real one is about 200 characters

PHOTO_NOT_AN_IMAGE = _l("This file is not a JPEG or PNG image. The photo must be a JPEG or PNG photo of the face, "
                        "at least %(min_width)d × %(min_height)d pixels.")
PHOTO_IS_PDF = _l("This is a PDF. The photo must be an image: a JPEG or PNG photo of the face.")
PHOTO_NOT_PORTRAIT = _l("This photo is wider than it is tall (%(width)d × %(height)d pixels). The permit needs a "
                        "portrait photo, taller than wide, about 3 wide by 4 high like a passport photo.")
PHOTO_TOO_NARROW = _l("This photo is too narrow for the permit (%(width)d × %(height)d pixels): the permit would cut "
                      "off much of the top and bottom. Crop it to about 3 wide by 4 high.")
PHOTO_TOO_WIDE = _l("This photo is square or nearly so (%(width)d × %(height)d pixels): the permit would cut off "
                    "its sides. Crop it to about 3 wide by 4 high, like a passport photo.")
PHOTO_TOO_SMALL = _l("This photo is too small to print on the permit: it is %(width)d × %(height)d pixels, and "
                     "the permit needs at least %(min_width)d × %(min_height)d pixels.")
KEPT_PHOTO_EXPIRED = _l("The photo you chose earlier was kept for %(minutes)d minutes only, and that time is over. "
                        "Choose the photo again.")
KEPT_PHOTO_INVALID = _l("The photo you chose earlier could not be found. Choose the photo again.")


def check_permit_photo(received: ReceivedFile) -> None:
    """Refuse, with a message naming the problem, what would not print well on the permit:
    not an image, not a portrait, proportions too far from 3:4, fewer pixels than it prints."""
    content_type = detected_content_type(received.content)
    if content_type is None:
        raise UploadError(str(PHOTO_NOT_AN_IMAGE % {"min_width": PHOTO_MIN_WIDTH_PX,
                                                    "min_height": PHOTO_MIN_HEIGHT_PX}))
    size = upright_image_size(received)
    if content_type == "application/pdf" or size is None:
        raise UploadError(str(PHOTO_IS_PDF))
    width, height = size
    if width > height:
        raise UploadError(str(PHOTO_NOT_PORTRAIT % {"width": width, "height": height}))
    aspect = width / height
    if aspect < PHOTO_MIN_ASPECT:
        raise UploadError(str(PHOTO_TOO_NARROW % {"width": width, "height": height}))
    if aspect > PHOTO_MAX_ASPECT:
        raise UploadError(str(PHOTO_TOO_WIDE % {"width": width, "height": height}))
    if width < PHOTO_MIN_WIDTH_PX or height < PHOTO_MIN_HEIGHT_PX:
        raise UploadError(str(PHOTO_TOO_SMALL % {"width": width, "height": height,
                                                 "min_width": PHOTO_MIN_WIDTH_PX,
                                                 "min_height": PHOTO_MIN_HEIGHT_PX}))


# --- kept photos ---------------------------------------------------------------------------

class KeptPhotoError(Exception):
    """A kept-photo token that is forged, for another user, or expired. `str()` is for the user."""


@dataclass(frozen=True)
class KeptPhoto:
    """A photo stored for a form sent back with errors: the file and the token that names it."""

    stored_name: str
    content_type: str
    token: str

    @property
    def original_filename(self) -> str:  # for send_stored
        return "photo"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=KEPT_PHOTO_SALT)


def keep_photo(stored: StoredFile, user_id: int) -> KeptPhoto:
    """A token naming a staged photo for this user."""
    token = _serializer().dumps({"user": user_id, "name": stored.stored_name, "type": stored.content_type})
    return KeptPhoto(stored.stored_name, stored.content_type, token)


def kept_photo(token: str, user_id: int) -> KeptPhoto:
    """The photo a token names, if the token is genuine, this user's and young enough."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise KeptPhotoError(str(KEPT_PHOTO_INVALID))
    try:
        payload = _serializer().loads(token, max_age=KEPT_PHOTO_MAX_AGE_SECONDS)
    except SignatureExpired as error:
        raise KeptPhotoError(str(KEPT_PHOTO_EXPIRED % {"minutes": KEPT_PHOTO_MAX_AGE_SECONDS // 60})) from error
    except BadSignature as error:
        raise KeptPhotoError(str(KEPT_PHOTO_INVALID)) from error
    if not isinstance(payload, dict) or payload.get("user") != user_id:
        raise KeptPhotoError(str(KEPT_PHOTO_INVALID))
    name, content_type = payload.get("name"), payload.get("type")
    if not (isinstance(name, str) and STORED_NAME.fullmatch(name)) or content_type not in KIND_BY_CONTENT_TYPE \
            or content_type == "application/pdf":
        raise KeptPhotoError(str(KEPT_PHOTO_INVALID))
    if not stored_path(name).is_file():  # swept early (`flask uploads sweep --min-age`), or lost
        raise KeptPhotoError(str(KEPT_PHOTO_INVALID))
    return KeptPhoto(name, content_type, token)

