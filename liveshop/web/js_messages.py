# ruff: noqa: E501  (one message a line reads best)
"""The words the pages' scripts show (``static/js/i18n.js``): keys the scripts use, English
source text marked for translation here, rendered per request into the page's
``<script type="application/json" id="page-messages">`` island (``messages_json``).

A new message for a script: add its key here (``lazy_gettext`` for one form, ``PLURALS`` for
a count), use ``t("key", {params})`` / ``tn("key", n)`` in the script, run ``make messages``.
Placeholders are ``%(name)s`` as in Python.
"""

from __future__ import annotations

from babel import Locale
from babel.support import LazyProxy
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from liveshop.core import i18n
from liveshop.core.i18n import lazy_gettext as _l

MESSAGES: dict[str, LazyProxy] = {
    "flash_deal": _l("Flash deal"),
    "pinned_by_the_host": _l("Pinned by the host"),
    "sold_out": _l("Sold out"),
    "deal_ended": _l("Deal ended"),
    "log_in_to_buy": _l("Log in to buy"),
    "buy": _l("Buy"),
    "limit_per_buyer": _l("Limit %(per_buyer_limit)s per buyer"),
    "limit_of_this_product_per_buyer_in_this": _l(
        "Limit %(per_product_limit)s of this product per buyer in this show"
    ),
    "sold_out_2": _l("SOLD OUT"),
    "all_claimed_line_open": _l("All claimed — line open"),
    "of_left": _l("%(left)s of %(units)s left"),
    "this_show_is_not_available": _l("This show is not available"),
    "log_in_to_chat": _l("Log in to chat."),
    "you_re_sending_messages_too_fast_wait_a": _l(
        "You're sending messages too fast — wait a moment."
    ),
    "that_message_is_too_long": _l("That message is too long."),
    "you_re_muted_in_this_room_until": _l("You're muted in this room until %(when)s."),
    "you_re_muted_in_this_room": _l("You're muted in this room."),
    "that_didn_t_work": _l("That didn't work."),
    "paid": _l("Paid!"),
    "order_placed": _l("Order placed"),
    "view_order": _l("View order"),
    "finish_paying": _l("Finish paying"),
    "bidding": _l("Bidding…"),
    "bid_steps": _l("Bid steps: %(steps)s"),
    "sla_answer_within": _l("answer within %(t)s"),
    "sla_overdue_by": _l("overdue by %(t)s"),
    # Translators: a support case's timer, e.g. "3 h 05 min 09 s"
    "sla_hours_minutes_seconds": _l("%(h)s h %(m)s min %(s)s s"),
    # Translators: a support case's timer, e.g. "45 min 09 s"
    "sla_minutes_seconds": _l("%(m)s min %(s)s s"),
    "step_from": _l("+%(step)s from %(price)s"),
    "you_re_winning_your_maximum": _l("You're winning (your maximum %(amount)s)"),
    "outbid_straight_away_by_someone_s_maximu": _l(
        "Outbid straight away by someone's maximum — try higher"
    ),
    "save_a_card_first_the_winner_is_charged": _l(
        "Save a card first: the winner is charged when the hammer falls."
    ),
    "too_low_the_least_bid_now_is": _l("Too low — the least bid now is %(amount)s."),
    "you_re_already_winning": _l("You're already winning."),
    "too_late_the_hammer_has_fallen": _l("Too late — the hammer has fallen."),
    "hosts_can_t_bid_on_their_own_lots": _l("Hosts can't bid on their own lots."),
    "that_bid_didn_t_go_through": _l("That bid didn't go through."),
    "no_connection_your_bid_was_not_sent": _l("No connection — your bid was not sent."),
    "withdrawn_its_units_are_back_on_sale": _l("Withdrawn: its units are back on sale."),
    "the_lot_could_not_be_withdrawn": _l("The lot could not be withdrawn."),
    "going_gone": _l("Going… gone"),
    "auction": _l("Auction"),
    "sudden_death": _l("Sudden death"),
    "bids_in_the_last_s_reset_the_clock": _l("Bids in the last %(snipe_seconds)ss reset the clock"),
    "you_won_yours_for": _l("You won! Yours for %(amount)s%(each)s."),
    "sold_to_for": _l("Sold to %(bidder)s for %(amount)s%(each)s"),
    "a_bidder": _l("a bidder"),
    "sold_charging": _l("Sold! Charging %(winner)s…"),
    "your_card": _l("your card"),
    "the_winner": _l("the winner"),
    "no_sale": _l("No sale"),
    "lot_withdrawn": _l("Lot withdrawn"),
    "you_re_winning": _l("You're winning"),
    "is_winning": _l("%(someone)s is winning"),
    "someone": _l("Someone"),
    "no_bids_yet": _l("No bids yet"),
    "log_in_to_bid": _l("Log in to bid"),
    "withdraw_lot": _l("Withdraw lot"),
    "your_maximum_bid_in_minor_units": _l("Your maximum bid (in minor units)"),
    "max_e_g_2500": _l("Max (e.g. 2500)"),
    "bid": _l("Bid %(amount)s"),
    "set_max": _l("Set max"),
    "sold_out_every_unit_is_taken_units_not_p": _l(
        "Sold out — every unit is taken. Units not paid for in time come back."
    ),
    "that_didn_t_work_please_try_again": _l("That didn't work. Please try again."),
    "yours_held_for_you": _l("Yours — held for you"),
    "deal_option": _l("Deal option"),
    "choose": _l("Choose %(choice_legend)s"),
    "buying_needs_a_buyer_account_log_in_as_a": _l(
        "Buying needs a buyer account: log in as a buyer to buy here."
    ),
    "a_flash_deal_just_started_this_is_its_pr": _l("A flash deal just started: this is its price."),
    "the_flash_deal_has_ended_this_is_the_reg": _l(
        "The flash deal has ended: this is the regular price."
    ),
    "checking_the_coupon": _l("Checking the coupon…"),
    "this_coupon_cannot_be_used_here": _l("This coupon cannot be used here."),
    "the_price_could_not_be_worked_out_please": _l(
        "The price could not be worked out. Please try again."
    ),
    "no_connection_the_price_could_not_be_che": _l(
        "No connection — the price could not be checked. Try again."
    ),
    "you_have_bought_your_limit": _l("You have bought your limit"),
    "choose_an_option_to_pay": _l("Choose an option to pay"),
    "pay_with": _l("Pay %(total)s with %(card)s"),
    "test_card_4242": _l("test card 4242…"),
    "price_unavailable": _l("Price unavailable"),
    "checking_the_price": _l("Checking the price…"),
    "paying_with": _l("Paying with %(label)s"),
    "change_card": _l("Change card"),
    "add_a_card": _l("Add a card"),
    "test_mode_your_saved_sandbox_card_is_cha": _l(
        "Test mode: your saved sandbox card is charged — no real money moves."
    ),
    "test_mode_the_sandbox_card_4242_4242_424": _l(
        "Test mode: the sandbox card 4242 4242 4242 4242 is charged — no real money moves."
    ),
    "the_card_was_not_saved": _l("The card was not saved: %(detail)s"),
    "the_card_was_not_saved_please_try_again": _l("The card was not saved. Please try again."),
    "no_connection_the_card_was_not_saved_and": _l(
        "No connection — the card was not saved and nothing was charged. Try again."
    ),
    "limit_per_buyer_2": _l("Limit %(limit)s per buyer"),
    "shipping": _l("+ %(amount)s shipping"),
    "free_shipping": _l("Free shipping"),
    "items": _l("Items"),
    "coupon": _l("Coupon %(coupon)s"),
    "shop_discount": _l("Shop discount"),
    "platform_discount": _l("Platform discount"),
    "shipping_2": _l("Shipping"),
    "free_shipping_paid_by_liveshop": _l("Free shipping (paid by liveshop)"),
    "total": _l("Total"),
    "paying": _l("Paying…"),
    "no_connection_nothing_was_charged_try_ag": _l(
        "No connection — nothing was charged. Try again."
    ),
    "not_connected_your_message_was_not_sent": _l(
        "Not connected — your message was not sent. Try again in a moment."
    ),
    "host": _l("Host"),
    "full_name": _l("Full name"),
    "phone": _l("Phone"),
    "street_address": _l("Street address"),
    "town_city": _l("Town / city"),
    "region_state_if_your_country_uses_one": _l("Region / state (if your country uses one)"),
    "postcode_zip": _l("Postcode / ZIP"),
    "deliver_to": _l("Deliver to"),
    "add_an_address": _l("Add an address…"),
    "a_new_address_in": _l("A new address in %(market)s"),
    "save_address": _l("Save address"),
    "that_address_could_not_be_saved": _l("That address could not be saved."),
    "no_connection_the_address_was_not_saved": _l("No connection: the address was not saved."),
    "to": _l(" · to "),
    "estimate_note": _l(" (estimate)"),  # after a delivery estimate not from the shop's history
    "no_delivery_address_yet": _l(" · no delivery address yet"),
    "change": _l("Change"),
    "add_an_address_2": _l("Add an address"),
    "hold_then_pay": _l("Hold then pay"),
    "tap_to_claim": _l("Tap to claim"),
    "first_paid_wins": _l("First paid wins"),
    "no_holds_the_first_buyers_to_pay_get_it": _l("No holds — the first buyers to pay get it"),
    "queue": _l("Queue"),
    "sold_out_join_the_line_unpaid_units_go_t": _l(
        "Sold out? Join the line — unpaid units go to the next in line"
    ),
    "lottery": _l("Lottery"),
    "enter_before_the_draw_winners_are_picked": _l(
        "Enter before the draw — winners are picked by a seed anyone can check"
    ),
    "enter_the_draw": _l("Enter the draw"),
    "not_this_time_the_draw_picked_others": _l("Not this time — the draw picked others"),
    "no_connection_nothing_was_claimed_tap_ag": _l(
        "No connection — nothing was claimed. Tap again."
    ),
    "sold_out_every_unit_is_taken": _l("Sold out — every unit is taken"),
    "you_ve_reached_the_limit_of": _l("You've reached the limit of %(limit)s"),
    "that_didn_t_work_tap_again": _l("That didn't work — tap again."),
    "sold_out_every_unit_was_paid_for": _l("Sold out — every unit was paid for"),
    "the_drop_has_ended": _l("The drop has ended"),
    "how": _l("How?"),
    "seed_hash": _l("Seed hash "),
    "claiming": _l("Claiming…"),
    "yours_pay_within": _l("Yours — pay within %(mmss)s"),
    "you_re_in_line": _l("You're #%(position)s in line"),
    "you_re_in_line_2": _l("You're in line"),
    "you_re_in_the_draw_entry": _l("You're in the draw · entry #%(ticket)s%(date)s"),
    "draw_at": _l(" · draw at %(date)s"),
    "yours_order_placed": _l("Yours — order placed"),
    "pay_now": _l("Pay now"),
    "in_line": _l("In line"),
    "entered": _l("Entered"),
    "your_hold_ran_out_the_units_went_back_to": _l(
        "Your hold ran out — the units went back to the drop"
    ),
    "standard": _l("Standard"),
    "option": _l("Option"),
    "watch_from": _l("Watch from %(clock)s: %(title)s"),
    "shop_the_replay": _l("Shop the replay"),
    "tap_for_sound": _l("Tap for sound"),
    "sound_on": _l("Sound on"),
    "the_creator_s_video_is_reconnecting": _l("The creator's video is reconnecting…"),
    "video_starting": _l("Video starting…"),
    "video_paused_trying_again": _l("Video paused — trying again…"),
    "of_left_2": _l("%(available)s of %(units)s left"),
    "sold_out_the_deal_has_ended": _l("Sold out — the deal has ended."),
    "time_is_up_the_deal_has_ended": _l("Time is up — the deal has ended."),
    "the_deal_has_ended": _l("The deal has ended."),
    "start_another": _l("Start another"),
    "ends_in": _l("ends in %(text)s"),
    "ending": _l("ending…"),
    "service": _l("Service"),
    "custom": _l("Custom…"),
    "server": _l("Server"),
    "video_ingest_is_off_on_this_server": _l("Video ingest is off on this server"),
    "stream_key": _l("Stream key"),
    "shown_below_once": _l("shown below, once"),
    "hidden": _l("%(prefix)s… (hidden)"),
    "none_yet": _l("none yet"),
    "output": _l("Output"),
    "720_1280_or_1080_1920_vertical_keyframe": _l(
        "720×1280 or 1080×1920 (vertical), keyframe interval 1 s, 2,500–4,500 kbps"
    ),
    "rotate_key": _l("Rotate key"),
    "create_stream_key": _l("Create stream key"),
    "paste_it_into_obs_now_it_is_not_shown_ag": _l(
        "Paste it into OBS now: it is not shown again. Rotating makes the old key stop working."
    ),
    "video_is_not_available_on_this_server_yo": _l(
        "Video is not available on this server: your viewers see the shop and the chat."
    ),
    "make_a_new_stream_key_the_current_one_st": _l(
        "Make a new stream key? The current one stops working at once."
    ),
    "hide": _l("Hide"),
    "hide_comment_by": _l("Hide comment by %(name)s"),
    "mute": _l("Mute"),
    "mute_2": _l("Mute %(name)s"),
    "until_you_unmute_them": _l("until you unmute them"),
    "unmute": _l("Unmute"),
    "unmute_2": _l("Unmute %(display_name)s"),
    "sold": _l("%(title)s · %(units)s sold · %(amount)s"),
    "receiving_your_stream": _l("Receiving your stream"),
    "your_encoder_disconnected_reconnect_to_c": _l(
        "Your encoder disconnected — reconnect to carry on"
    ),
    "not_receiving_start_streaming_in_obs": _l("Not receiving: start streaming in OBS"),
    "picture": _l("Picture"),
    "frame_rate": _l("Frame rate"),
    "bitrate": _l("Bitrate"),
    "keyframes": _l("Keyframes"),
    "every_s": _l("every %(keyframe_interval_s)s s"),
    "sound": _l("Sound"),
    "connecting": _l("connecting…"),
    "reconnecting_retrying": _l("reconnecting — retrying"),
    "starts_when_you_go_live": _l("starts when you go live"),
    "remove": _l("Remove"),
    "stop_streaming_to": _l("Stop streaming to %(label)s?"),
    "this_browser_cannot_compute_sha_256_here": _l(
        "This browser cannot compute SHA-256 here (open the page over https)."
    ),
    "the_seed_does_not_match_its_published_fi": _l(
        "✗ The seed does not match its published fingerprint."
    ),
    "checked_in_your_browser_the_seed_matches": _l(
        "✓ Checked in your browser: the seed matches its fingerprint and gives this order for all %(rows)s entries."
    ),
    "the_order_below_does_not_follow_from_the": _l(
        "✗ The order below does not follow from the seed."
    ),
    "each": _l(" each × %(quantity)s"),
    "view_order_2": _l(" View order"),
    "you_have_bought_your_limit_note": _l(" · you have bought your limit"),
    "you_can_buy_more": _l(" · you can buy %(remaining)s more"),
    "name_is_muted": _l("%(name)s is muted."),
    "name_can_comment_again": _l("%(name)s can comment again."),
    "yes": _l("yes"),
    "no": _l("no"),
    "relay_live": _l("live"),
    "relay_stopped": _l("stopped"),
    "off": _l("%(coupon_code)s: %(coupon)s off"),
    "gives_no_discount_on_this": _l("%(coupon_code)s gives no discount on this"),
    "per_buyer": _l("%(per_buyer_limit)s per buyer"),
    "of_this_product_per_buyer": _l("%(per_product_limit)s of this product per buyer"),
    "paying_now": _l("%(paying)s paying now"),
    "order": _l(" Order #%(id)s · %(display_total)s "),
    "tax_included": _l("%(tax_name)s (included)"),
    "from_price": _l("from %(text)s"),
    "until_when": _l("until %(when)s"),
    "fps": _l("%(fps)s fps"),
    "kbps": _l("%(kbps)s kbps"),
    "error_status": _l("error %(status)s"),
    # System lines in the room (the server sends a key and its values; each viewer reads
    # them in their own language: realtime/publish.py).
    "purchase": _l("Someone just bought %(what)s"),
    "purchase_in": _l("Someone in %(city)s just bought %(what)s"),
    "quantity_of": _l("%(quantity)s × %(title)s"),
    # The names of the options a seller's SKUs vary by, as shoppers say them ("Choose size");
    # a name not listed is shown as the seller wrote it. Also the product page's (templating).
    "an_option": _l("option"),  # "Choose option": a product that varies by nothing named
    "attr_size": _l("size"),
    "attr_colour": _l("colour"),
    "attr_color": _l("colour"),
    "attr_length": _l("length"),
    "attr_weight": _l("weight"),
    "attr_flavour": _l("flavour"),
    "attr_grind": _l("grind"),
    "attr_pack": _l("pack size"),
    "attr_plug": _l("plug"),
    "attr_switch": _l("switch type"),
    "attr_shade": _l("shade"),
    "attr_volume": _l("volume"),
    "attr_scent": _l("scent"),
    "attr_style": _l("style"),
    "attr_material": _l("material"),
}


def plural_noop(singular: str, plural: str) -> tuple[str, str]:
    """Marks a (singular, plural) pair for extraction (``make messages``: keyword
    ``plural_noop:1,2``); translated when a page is rendered."""
    return singular, plural


# Messages with a count: (singular, plural) with ``%(num)d``; the page gets the form for each
# plural category of its language (CLDR, as Intl.PluralRules names them).
PLURALS: dict[str, tuple[str, str]] = {
    "bids": plural_noop("%(num)d bid", "%(num)d bids"),
    "watching": plural_noop("%(num)d watching", "%(num)d watching"),
    "hold_minutes": plural_noop(
        "Tap to hold it — it's yours for %(num)d minute to pay",
        "Tap to hold it — it's yours for %(num)d minutes to pay",
    ),
}

# A count in each CLDR plural category, to ask gettext for that category's form.
_SAMPLES = (0, 1, 2, 3, 5, 11, 21, 100, 101, 1000000)


def page_messages() -> dict[str, object]:
    """Every script message in the request's language (``core.i18n``)."""
    out: dict[str, object] = {key: str(text) for key, text in MESSAGES.items()}
    language = i18n.get_locale()
    try:
        locale = Locale.parse(i18n.format_locale(language, None))
    except (ValueError, TypeError):
        locale = Locale.parse("en")
    for key, (singular, plural) in PLURALS.items():
        forms: dict[str, str] = {}
        for n in _SAMPLES:
            category = locale.plural_form(n)
            if category not in forms:
                forms[category] = i18n.raw_ngettext(singular, plural, n)
        forms.setdefault("other", i18n.raw_ngettext(singular, plural, 2))
        out[key] = forms
    return out


def messages_json() -> Markup:
    """The page's ``<script type="application/json" id="page-messages">`` content."""
    return htmlsafe_json_dumps(page_messages(), sort_keys=False)
