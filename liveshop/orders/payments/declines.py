"""Why a card was not charged, in the buyer's words and language.

Providers answer a failed charge with a code (``card_declined``, ``insufficient_funds``…) and
an English sentence of their own. The buyer reads the code's sentence in their language here;
a code we do not know keeps the provider's own sentence, else a general one. The code itself
stays in the problem's ``decline_code`` for programs.
"""

from __future__ import annotations

from babel.support import LazyProxy

from liveshop.core.i18n import lazy_gettext

WORDS: dict[str, LazyProxy] = {
    "card_declined": lazy_gettext("The card was declined."),
    "insufficient_funds": lazy_gettext("The card has insufficient funds."),
    "expired_card": lazy_gettext("The card has expired."),
    "live_card_in_test_mode": lazy_gettext(
        "This is the test-mode sandbox: use a test card such as 4242 4242 4242 4242."
    ),
    "no_saved_card": lazy_gettext("There is no saved card to charge."),
    "provider_error": lazy_gettext("The payment provider could not be reached."),
}
GENERAL = lazy_gettext("The payment was declined.")


def decline_words(code: str | None, provider_message: str | None = None) -> LazyProxy | str:
    """The sentence for a decline ``code`` (worded when turned into ``str``, in the language
    then in force): ours, else the provider's ``provider_message``, else a general one."""
    if code is not None and code in WORDS:
        return WORDS[code]
    return provider_message or GENERAL
