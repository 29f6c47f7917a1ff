"""What the customer's and the seller's conversation pages share: the forms, reading one's own
conversation (404 for anyone else's), posting a message and telling the other party."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.conversations import services as conversations
from app.conversations.models import Conversation
from app.core.errors import NotAllowed, ValidationFailed
from app.web.messages import apply_errors


class MessageForm(FlaskForm):
    # Text, photos or both: the service says when neither is given.
    body = TextAreaField(
        _l("Your message"), validators=[Optional(), Length(max=conversations.MAX_LENGTH)]
    )
    photos = MultipleFileField(
        _l("Photos (up to 3; JPEG, PNG or WebP)"),
        description=_l("A message may be photos only, or text with photos."),
    )

    def uploads(self) -> list:
        """The files chosen (a browser sends an empty part when none is)."""
        return [f.stream for f in (self.photos.data or []) if getattr(f, "filename", "")]


class ReportForm(FlaskForm):
    reason = TextAreaField(
        _l("What is wrong with this conversation?"), validators=[DataRequired(), Length(max=1000)]
    )


def own_conversation(conversation_id: int, side: str) -> Conversation:
    """The conversation, when the logged-in user is its ``side``; else 404."""
    found = conversations.get(conversation_id)
    if found is None or conversations.side_of(found, current_user) != side:
        abort(404)
    return found


def thread_page(
    conversation: Conversation,
    side: str,
    endpoint: str,
    tell: Callable[[int, int, str], None],
) -> ResponseReturnValue:
    """The conversation page of ``side`` (GET shows it and marks it read; POST writes, then
    ``tell(recipient id, conversation id, recipient side)`` lets the other party know)."""
    form = MessageForm()
    status = 200
    if form.is_submitted():
        status = 400
        if form.validate():
            try:
                posted = conversations.post(
                    conversation, current_user, form.body.data or "", form.uploads()
                )
            except NotAllowed:
                abort(404)
            except ValidationFailed as exc:
                apply_errors(form, exc)
            else:
                tell(posted.recipient_id, posted.conversation_id, posted.recipient_side)
                flash(_("Your message is sent."), "success")
                return redirect(url_for(endpoint, conversation_id=conversation.id))
    else:
        conversations.mark_read(conversation, current_user)
    return render_template(
        "conversations/thread.html",
        conversation=conversation,
        side=side,
        form=form,
        report_form=ReportForm(),
        post_to=url_for(endpoint, conversation_id=conversation.id),
        report_to=url_for(endpoint + "_report", conversation_id=conversation.id),
    ), status


def report(conversation: Conversation, endpoint: str) -> ResponseReturnValue:
    form = ReportForm()
    if form.validate_on_submit():
        conversations.report(conversation, current_user, form.reason.data or "")
        flash(_("Thank you: programme staff will read this conversation."), "success")
    else:
        flash(_("Say what is wrong, so staff know what to look for."), "error")
    return redirect(url_for(endpoint, conversation_id=conversation.id))
