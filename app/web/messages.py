"""User-facing texts for the error codes the services raise (translated at the edge)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import Form

from app.core.errors import ValidationFailed

ERROR_TEXT = {
    "refund_too_large": _l("The amount is more than what is left to refund of this order."),
    "date_invalid": _l("Enter a date such as 1405/09/30."),
    "batch_open": _l("Another settlement batch is open: mark it paid or discard it first."),
    "sheba_invalid": _l("Enter a valid Sheba number: IR and 24 digits (check the digits)."),
    "rate_invalid": _l("Enter a percentage such as 7.5 (at most two decimals)."),
    "rate_range": _l("The commission must be between 0 and 100 percent."),
    "invalid": _l("Please enter a valid value."),
    "synonym_one_word": _l("Enter one word (at least two letters, not a number)."),
    "synonym_same": _l("The two words are the same."),
    "synonym_exists": _l("This pair is already on the list."),
    "synonyms_full": _l("The list is full: remove pairs that are no longer needed first."),
    "email_invalid": _l("Please enter a valid e-mail address."),
    "taken": _l("An account with this e-mail already exists. Try logging in."),
    "too_short": _l("Use at least 12 characters."),
    "too_long": _l("That is too long."),
    "required": _l("This field is required."),
    "wrong": _l("The current password is not correct."),
    "mobile_taken": _l("Another account already uses this mobile number."),
    "same_email": _l("This is already your address."),
    "email_taken": _l("Another account already uses this address."),
    "email_link_invalid": _l(
        "This link has expired or was replaced. Ask for a new one on your account page."
    ),
    "delete_staff": _l("A staff account cannot be deleted here: ask another staff member."),
    "delete_has_shop": _l(
        "Your account has a shop. Ask programme staff to close it before deleting the account."
    ),
    "delete_open_orders": _l(
        "You have orders still on their way. You can delete the account once they are complete "
        "or cancelled."
    ),
    "message_too_long": _l("The message is too long: shorten it or send it in two."),
    "messages_too_many": _l(
        "You have sent too many messages in the last hour. Please wait a little and try again."
    ),
    "mobile_unverified": _l("Verify your mobile number first: see your account page."),
    "code_wrong": _l("That code is not right. Check the text message and try again."),
    "code_expired": _l("This code has expired or was used. Ask for a new one."),
    "no_mobile": _l(
        "This seller has no mobile number to text: neither a verified mobile on their account "
        "nor a mobile number as the shop’s phone."
    ),
    "reset_link_invalid": _l(
        "This link has expired or has already been used. Ask for a new one below."
    ),
    "password_common": _l("This password is too common. Choose one that others do not use."),
    "password_simple": _l(
        "This password is too simple: avoid repeated characters and sequences like 123456."
    ),
    "password_like_email": _l("The password must not be made of your e-mail address."),
    "registration_refused": _l(
        "We could not create an account with these details. If you already have an account, "
        "log in instead."
    ),
    "slug_invalid": _l(
        "Use 3–60 letters (Persian or Latin), digits and dashes (not at the start or end)."
    ),
    "slug_taken": _l("This shop address is taken. Choose another."),
    "code_taken": _l("This registration code belongs to another seller."),
    "future_date": _l("The date cannot be in the future."),
    "reason_required": _l("Please give a reason; the seller will see it."),
    "out_of_range": _l("The number is out of range."),
    "stock_alert_in_stock": _l("This product is in stock now: you can buy it."),
    "variant_required": _l("Choose one of this product's options (size, colour...) first."),
    "variant_unavailable": _l("That choice of this product is not offered any more."),
    "needs_photo": _l("Add at least one photo before publishing."),
    "needs_price": _l("Set a price before publishing."),
    "coupon_code_invalid": _l(
        "Use Latin letters, digits, dashes or underscores: at least three, at most thirty-two."
    ),
    "coupon_code_taken": _l("Your shop already has a coupon with this code."),
    "coupon_percent_range": _l("A percentage cannot be more than a hundred."),
    "coupon_unknown": _l("No shop in your cart has this coupon code."),
    "coupon_ended": _l("This coupon has ended."),
    "coupon_not_started": _l("This coupon has not started yet."),
    "coupon_used_up": _l("This coupon has been used up."),
    "coupon_min_order": _l("This shop's items in your cart are under the coupon's minimum order."),
    "sale_price_required": _l("Enter a sale price for the sale's days, or clear the days."),
    "sale_not_lower": _l("The sale price must be lower than the price."),
    "sale_ends_before_start": _l("The sale's last day cannot be before its first day."),
    "campaign_percent_range": _l("Enter a percentage from 1 to 90."),
    "campaign_in_past": _l("The campaign's last day has already passed."),
    "campaign_over": _l("This campaign is over."),
    "campaign_shop_not_approved": _l("Only an approved shop can join a campaign."),
    "needs_category": _l("Choose a category before publishing."),
    "hidden_by_staff": _l("Staff hid this listing. Fix it and save it as a draft to resubmit."),
    "awaiting_review": _l(
        "Staff are reviewing this listing again after it was hidden. You can publish it once they release it."
    ),
    "too_many_photos": _l("A listing can have at most 8 photos."),
    "photo_expired": _l(
        "A photo you added earlier is no longer kept (photos wait a few hours for the save). "
        "Please add it again."
    ),
    "too_many_staged": _l(
        "You have many photos waiting to be saved. Save your listing, or wait a few hours, "
        "before adding more."
    ),
    "not_found": _l("That photo no longer exists."),
    "last_photo_of_published": _l(
        "A published listing needs a photo. Add another before deleting this one."
    ),
    "too_large_bytes": _l("The file is too large. Please choose a smaller one."),
    "too_many_pixels": _l("The image has too many pixels. Please use a smaller image."),
    "unsupported_format": _l("Only JPEG, PNG and WebP images are accepted."),
    "corrupt": _l("The image is damaged or incomplete. Please try another file."),
    "empty": _l("The file is empty."),
    "not_processed": _l(
        "The photo could not be processed. Please upload it again in a few minutes."
    ),
    # options and variants
    "too_many_options": _l("A listing can have at most three options."),
    "duplicate_option": _l("Two options have the same name."),
    "option_values_invalid": _l(
        "Give each option its values separated by commas (at most 20, each at most 40 "
        "characters, none repeated)."
    ),
    "variants_required": _l(
        "Press “Make the rows” and give each variant its price and stock before saving."
    ),
    "too_many_variants": _l(
        "The options make more than 100 variants. Use fewer values or fewer options."
    ),
    "duplicate_variant": _l("This variant appears twice."),
    "variant_values_invalid": _l(
        "This row does not match the options any more: press “Make the rows” again."
    ),
    "duplicate_sku": _l("Another row has the same SKU."),
    "sku_invalid": _l("Use Latin letters, digits, dots, dashes or underscores (at most 64)."),
    "sku_taken": _l("Another of your listings already uses this SKU."),
    "number_invalid": _l("Enter a whole number, like 120000 or ۱۲۰٬۰۰۰."),
    "has_variants": _l(
        "This listing has variants: change their prices and stock on the listing's form."
    ),
    "single_item_confirm": _l(
        "You removed every option. Tick the box to sell this listing as a single item again, "
        "or put the options back."
    ),
    # buying
    "quantity_range": _l("Choose a quantity from 1 to 99."),
    "mobile_invalid": _l("Enter an 11-digit mobile number starting with 09, like 09121234567."),
    "postal_code_invalid": _l("Enter the 10-digit postal code."),
    "unavailable": _l("This product is not for sale at the moment."),
    "cart_full": _l("Your cart is full: it can hold 50 different products."),
    # shipping
    "carrier_required": _l("Choose a carrier."),
    "amount_negative": _l("Enter an amount from 0."),
    "free_over_negative": _l("Enter an order amount from 0, or leave it empty."),
    "days_range": _l("Enter a number of days from 0 to 60."),
    "days_order": _l("The longest delivery time cannot be shorter than the shortest."),
    "too_many_methods": _l("You can have at most 10 shipping methods."),
    "shipping_invalid": _l("Choose one of the seller's shipping methods."),
    "away_past": _l("Choose a date after today."),
    "away_too_far": _l("Choose a date within a year."),
    # problems with orders
    "problem_kind_required": _l("Choose what went wrong."),
    "problem_description_short": _l("Describe the problem in a few words (at least 10 letters)."),
    "too_many_problem_photos": _l("Add at most 4 photos."),
    "too_many_message_photos": _l("Add at most 3 photos to a message."),
    "refund_amount_required": _l("Enter the amount to refund, in toman."),
    "refund_amount_too_large": _l(
        "The refund cannot be more than the customer paid for the order."
    ),
    "refund_wrong_kind": _l(
        "A card payment is refunded online; a cash order's refund is recorded as a cash refund."
    ),
    # reviews
    "review_stars_required": _l("Choose from one to five stars."),
    "too_many_review_photos": _l("Add at most 3 photos to a review."),
    "review_edit_closed": _l("This review can no longer be edited."),
    "review_already_answered": _l("This review was already answered."),
    "review_reports_too_many": _l("You have reported many reviews; try again in an hour."),
}

CARRIER_TEXT = {
    "post_pishtaz": _l("Iran Post (pishtaz, express)"),
    "post_sefareshi": _l("Iran Post (sefareshi, registered)"),
    "tipax": _l("Tipax"),
    "courier": _l("In-city courier"),
    "pickup": _l("Pickup from the seller"),
}


def carrier_label(code: str | None) -> str:
    """A carrier's name in the reader's language; a carrier typed by hand as it was typed."""
    return str(CARRIER_TEXT.get(code or "", code or ""))


def error_text(code: str) -> str:
    return str(ERROR_TEXT.get(code, code))


def apply_errors(form: Form, exc: ValidationFailed) -> None:
    """Show a service's validation errors on the form's fields (or as form-level errors)."""
    for field_name, codes in exc.errors.items():
        field = getattr(form, field_name, None)
        if field is None:
            form.form_errors.extend(error_text(code) for code in codes)
            continue
        field.errors = [*field.errors, *(error_text(code) for code in codes)]


STATUS_LABELS = {
    # seller
    "applied": _l("Waiting for review"),
    "approved": _l("Approved"),
    "rejected": _l("Not approved"),
    "suspended": _l("Suspended"),
    # product
    "draft": _l("Draft"),
    "published": _l("Published"),
    "hidden_by_staff": _l("Hidden by staff"),
    # order
    "awaiting_payment": _l("Awaiting payment"),
    "placed": _l("Placed"),
    "confirmed": _l("Confirmed"),
    "paid": _l("Paid"),
    "shipped": _l("Shipped"),
    "delivered": _l("Delivered"),
    "completed": _l("Completed"),
    "cancelled": _l("Cancelled"),
    "refunded": _l("Refunded"),
    # payment
    "pending": _l("Waiting for the bank"),
    "succeeded": _l("Paid"),
    "failed": _l("Failed"),
    "expired": _l("Expired"),
    "in_review": _l("Held for review"),
    # settlement batch
    "open": _l("Open"),
    "discarded": _l("Discarded"),
}


# Kinds of the sellers' ledger entries.
ENTRY_LABELS = {
    "sale": _l("Sale"),
    "commission": _l("Market commission"),
    "cash_collected": _l("Cash you collected"),
    "refund": _l("Refund to the customer"),
    "commission_reversal": _l("Commission given back"),
    "cash_returned": _l("Cash you gave back"),
    "payout": _l("Bank transfer to you"),
    "campaign_credit": _l("Market campaign discount paid by the market"),
    "campaign_reversal": _l("Market campaign discount given back"),
}
SKIP_LABELS = {
    "no_sheba": _l("No valid Sheba number"),
    "not_owed": _l("Nothing owed"),
}


def entry_label(kind: object) -> str:
    value = str(getattr(kind, "value", kind))
    return str(ENTRY_LABELS.get(value, value))


def skip_label(reason: str | None) -> str:
    return str(SKIP_LABELS.get(reason or "", reason or ""))


def status_label(status: object) -> str:
    value = getattr(status, "value", status)
    return str(STATUS_LABELS.get(str(value), value))


# Reasons the system records on status changes (people's own reasons are shown as written).
REASON_TEXT = {
    "expired": _l("The payment did not arrive in time."),
    "failed": _l("The card payment failed."),
    "payment_failed": _l("The card payment failed."),
    "late payment: stock taken again": _l("The payment arrived late; the items were still there."),
    "refunded by the payment provider": _l("The payment was refunded."),
    "received by the customer": _l("The customer confirmed receipt."),
    "receipt window ended": _l("Completed by itself: the time to confirm receipt ran out."),
    "refunded after a reported problem": _l("Refunded after a problem the customer reported."),
    "problem decided": _l("Completed when the market decided the problem the customer reported."),
}


def reason_text(reason: str | None) -> str:
    if not reason:
        return ""
    return str(REASON_TEXT.get(reason, reason))
