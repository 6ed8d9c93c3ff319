"""What a parcel's tracking says, in the viewer's language (issue 21).

A carrier reports a status code (``TrackingStatus``) and a line of its own text, in its own
language. The buyer reads the status in theirs; the carrier's line is shown as a detail only
when it says something the status does not (free text from a real carrier). The lines
liveshop and its simulated carrier write themselves are known here, and shown translated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from babel.support import LazyProxy

from liveshop.core.i18n import gettext as _
from liveshop.core.i18n import lazy_gettext
from liveshop.logistics.models import TrackingStatus

T = TrackingStatus

# A parcel's (or a return parcel's) status, as the order page names it.
PARCEL_STATUS: dict[str, LazyProxy] = {
    T.LABEL_CREATED: lazy_gettext("Label created"),
    T.PICKED_UP: lazy_gettext("Picked up"),
    T.IN_TRANSIT: lazy_gettext("In transit"),
    T.DELAYED: lazy_gettext("Delayed"),
    T.OUT_FOR_DELIVERY: lazy_gettext("Out for delivery"),
    T.FAILED_ATTEMPT: lazy_gettext("Delivery attempt failed"),
    T.DELIVERED: lazy_gettext("Delivered"),
    T.LOST: lazy_gettext("Lost"),
    T.CANCELLED: lazy_gettext("Booking cancelled"),
}

# The lines liveshop (manual shipments, call-offs, the seller's confirmation) and the
# simulated carrier write (``carriers.plan``, ``returns._BACK``), word for word.
KNOWN_LINES: dict[str, LazyProxy] = {
    "Label created": lazy_gettext("Label created"),
    "Collected from the seller": lazy_gettext("Collected from the seller"),
    "At the sorting hub": lazy_gettext("At the sorting hub"),
    "Delayed at the hub: a day late": lazy_gettext("Delayed at the hub: a day late"),
    "The parcel is lost": lazy_gettext("The parcel is lost"),
    "Out for delivery": lazy_gettext("Out for delivery"),
    "Nobody in: tried again": lazy_gettext("Nobody was in: it will be tried again"),
    "Out for delivery again": lazy_gettext("Out for delivery again"),
    "Delivered": lazy_gettext("Delivered"),
    "Booking called off: never collected": lazy_gettext(
        "Booking called off: the parcel was never collected"
    ),
    "Delivered (confirmed by the seller)": lazy_gettext("Delivered (confirmed by the seller)"),
    "Handed in by the buyer": lazy_gettext("Handed in by the buyer"),
    "Out for delivery to the shop": lazy_gettext("Out for delivery to the shop"),
    "Delivered to the shop": lazy_gettext("Delivered to the shop"),
}
_KNOWN = {line.casefold(): words for line, words in KNOWN_LINES.items()}
_HANDED_TO = re.compile(r"Handed to (?P<carrier>.{1,60})", re.I)
_HUB = re.compile(r"(?P<city>[^\W\d].{0,60}) hub")  # the simulated carrier's "Jakarta hub"
_PLACES: dict[str, LazyProxy] = {
    "sorting hub": lazy_gettext("sorting hub"),
    "the delivery depot": lazy_gettext("the delivery depot"),
}


def status_label(status: str) -> str:
    label = PARCEL_STATUS.get(status)
    return str(label) if label is not None else status.replace("_", " ")


@dataclass(frozen=True, slots=True)
class EventWords:
    text: str  # in the viewer's language
    carrier_text: str  # the carrier's own words when they add to it ("" otherwise)
    location: str  # where, in the viewer's words where liveshop knows them


def place_words(location: str) -> str:
    """A carrier's location: its hubs named in the viewer's language, a town as written."""
    where = (location or "").strip()
    if where in _PLACES:
        return str(_PLACES[where])
    hub = _HUB.fullmatch(where)
    if hub is not None:
        return _("%(city)s hub", city=hub["city"])
    return where


def event_words(status: str, description: str, location: str = "") -> EventWords:
    """A tracking event as the viewer reads it: a line liveshop knows, translated; else the
    status in their words, with the carrier's own line kept beside it."""
    line = (description or "").strip()
    known = _KNOWN.get(line.casefold())
    if known is not None:
        return EventWords(str(known), "", place_words(location))
    handed = _HANDED_TO.fullmatch(line)
    if handed is not None:
        text = _("Handed to %(carrier)s", carrier=handed["carrier"])
        return EventWords(text, "", place_words(location))
    text = status_label(status)
    says_status = line.casefold().replace(" ", "_") in (status, "")
    carrier_text = "" if says_status or line.casefold() == text.casefold() else line
    return EventWords(text, carrier_text, place_words(location))
