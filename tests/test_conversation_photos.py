"""Photos in buyer–seller conversations: both sides send them (with or without text), through the
pipeline of problem photos; hostile files are refused with nothing stored; photos count in the
hourly limit, hide with their message, are listed in one's data download and stay with the
messages when an account is deleted."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.catalog import photos as photo_files
from app.conversations import services as conversations
from app.conversations.models import Conversation, ConversationMessage, MessagePhoto
from app.core.errors import ValidationFailed
from app.core.extensions import db
from app.core.timeutil import utcnow
from tests import factories
from tests.helpers import jpeg, png
from tests.test_conversations import world
from tests.test_media_s3 import bucket, s3_app, s3_endpoint  # noqa: F401 (fixtures)
from tests.test_order_flow import as_user
from tests.test_photos import HTML, _truncated_jpeg, field_errors, message, noisy_jpeg, png_bomb

RED = (200, 30, 30)


def media_files(app) -> list[Path]:  # type: ignore[no-untyped-def]
    root = Path(app.config["MEDIA_DIR"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def started(app):  # type: ignore[no-untyped-def]
    """The world of the conversation tests, with the customer's conversation about the product
    started: (owner, product, customer, customer's client, thread address, conversation id)."""
    owner, _shop, product, mina = world(app)
    customer = as_user(app, mina)
    thread = customer.get(f"/p/{product.id}/ask").headers["Location"]
    return owner, product, mina, customer, thread, int(thread.rsplit("/", 1)[1])


def send(client, address: str, body: str = "", files=()):  # type: ignore[no-untyped-def]
    return client.post(
        address,
        data={"body": body, "photos": [(io.BytesIO(data), name) for data, name in files]},
        content_type="multipart/form-data",
    )


def counts() -> tuple[int, int]:
    db.session.expire_all()
    return (
        db.session.scalar(sa.select(sa.func.count(ConversationMessage.id))) or 0,
        db.session.scalar(sa.select(sa.func.count(MessagePhoto.id))) or 0,
    )


def test_both_sides_send_photos_shown_as_thumbnails_that_open_large(app):
    owner, _product, _mina, customer, thread, conversation_id = started(app)
    form = customer.get(thread).get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in form and 'accept="image/*"' in form

    sent = send(
        customer,
        thread,
        "این لکه روی پارچه است؟",
        [(jpeg((800, 600)), "stain.jpg"), (png((300, 200)), "close.png")],
    )
    assert sent.status_code == 302
    message = db.session.scalar(sa.select(ConversationMessage))
    assert [p.position for p in message.photos] == [0, 1]
    # A thumbnail and a large variant of each (one file for a picture narrower than both).
    stored = {key for p in message.photos for key in (p.small_key, p.large_key)}
    root = Path(app.config["MEDIA_DIR"])
    assert {str(f.relative_to(root)) for f in media_files(app)} == stored
    assert message.photos[0].small_key != message.photos[0].large_key

    seller = as_user(app, owner)
    page = seller.get(f"/seller/messages/{conversation_id}").get_data(as_text=True)
    assert 'accept="image/*"' in page
    for photo in message.photos:
        assert f'<a href="/media/{photo.large_key}"><img src="/media/{photo.small_key}"' in page
        opened = seller.get(f"/media/{photo.large_key}")
        assert opened.status_code == 200
        opened.close()

    # The seller answers with a photo only, no text.
    answered = send(seller, f"/seller/messages/{conversation_id}", files=[(jpeg(), "ok.jpg")])
    assert answered.status_code == 302
    answer = db.session.scalars(
        sa.select(ConversationMessage).order_by(ConversationMessage.id.desc())
    ).first()
    assert answer.body == "" and len(answer.photos) == 1
    page = customer.get(thread).get_data(as_text=True)
    assert f"/media/{answer.photos[0].small_key}" in page
    assert f"/media/{message.photos[1].large_key}" in page


@pytest.mark.parametrize(
    ("files", "code"),
    [
        ([(HTML, "page.jpg")], "unsupported_format"),
        ([(png_bomb(), "bomb.png")], "too_many_pixels"),
        ([(_truncated_jpeg(), "cut.jpg")], "corrupt"),
        ([(jpeg(), "ok.jpg"), (b"not a picture at all", "bad.jpg")], "unsupported_format"),
        (
            [(jpeg(colour=(i * 40, 10, 10)), f"{i}.jpg") for i in range(4)],
            "too_many_message_photos",
        ),
        ([(noisy_jpeg((600, 600)), "huge.jpg")], "too_large_bytes"),
        ([], "required"),
    ],
    ids=["html-as-jpg", "png-bomb", "truncated", "good-then-bad", "four", "too-big", "empty"],
)
def test_hostile_or_empty_input_is_refused_and_nothing_is_stored(app, files, code):
    app.config["MAX_IMAGE_BYTES"] = 100_000  # the noisy 600×600 JPEG is larger
    _owner, _product, _mina, customer, thread, conversation_id = started(app)
    before = db.session.get(Conversation, conversation_id).updated_at

    refused = send(customer, thread, "", files)

    assert refused.status_code == 400
    field = "body" if code == "required" else "photos"
    assert message(code) in field_errors(refused, field)
    assert counts() == (0, 0)
    assert media_files(app) == []
    assert db.session.get(Conversation, conversation_id).updated_at == before


def test_a_refused_message_keeps_the_files_another_message_uses(app):
    _owner, _product, mina, customer, thread, conversation_id = started(app)
    picture = jpeg((500, 400), RED)
    assert send(customer, thread, "اول", [(picture, "a.jpg")]).status_code == 302
    kept = media_files(app)
    assert len(kept) == 2
    # The same picture again, then a bad one: the shared files stay.
    refused = send(customer, thread, "دوم", [(picture, "a.jpg"), (b"<svg/>", "b.jpg")])
    assert refused.status_code == 400 and media_files(app) == kept
    assert counts() == (1, 1)


def test_files_are_removed_when_the_message_is_refused_after_they_were_stored(app, monkeypatch):
    _owner, _product, mina, _customer, _thread, conversation_id = started(app)
    conversation = conversations.get(conversation_id)
    assert conversations.post(conversation, mina, "", [jpeg((400, 300), RED)])
    kept = media_files(app)
    checks = []

    def busy_in_the_meantime(user, photos):  # type: ignore[no-untyped-def]
        checks.append(photos)
        if len(checks) == 2:  # the check made again when writing: others wrote meanwhile
            raise ValidationFailed({"body": ["messages_too_many"]})

    monkeypatch.setattr(conversations, "_check_rate", busy_in_the_meantime)
    with pytest.raises(ValidationFailed):
        conversations.post(conversation, mina, "x", [jpeg((400, 300), RED), png((90, 90))])
    assert media_files(app) == kept  # the new PNG's files are gone, the shared JPEG's stay
    assert counts() == (1, 1)


def test_photos_count_in_the_hourly_message_limit(app):
    _owner, _product, mina, customer, thread, conversation_id = started(app)
    conversation = conversations.get(conversation_id)
    db.session.add_all(
        ConversationMessage(conversation_id=conversation_id, sender_id=mina.id, body=f"پیام {n}")
        for n in range(conversations.MAX_PER_HOUR - 4)
    )
    db.session.commit()
    three = [jpeg(colour=(10, 10, 40 * i)) for i in range(1, 4)]
    # 26 written: a message of 3 photos counts 4 (room for exactly that), then nothing more.
    conversations.post(conversation, mina, "", three)
    assert counts() == (conversations.MAX_PER_HOUR - 3, 3)
    files = media_files(app)
    refused = send(customer, thread, "", [(jpeg(colour=(1, 2, 3)), "one.jpg")])
    assert refused.status_code == 400
    assert "too many messages" in refused.get_data(as_text=True)
    assert counts() == (conversations.MAX_PER_HOUR - 3, 3) and media_files(app) == files


def test_a_hidden_message_hides_its_photos_from_both_sides_but_not_from_staff(app):
    owner, _product, _mina, customer, thread, conversation_id = started(app)
    seller = as_user(app, owner)
    send(seller, f"/seller/messages/{conversation_id}", "نگاه کن", [(jpeg(colour=RED), "x.jpg")])
    photo = db.session.scalar(sa.select(MessagePhoto))
    customer.post(f"{thread}/report", data={"reason": "An offensive picture."})
    staff = as_user(app, factories.user(Role.STAFF, email="staff@example.com"))
    message_id = photo.message_id
    assert f"/media/{photo.small_key}" in staff.get(f"/admin/conversations/{conversation_id}").text
    staff.post(f"/admin/conversations/messages/{message_id}/hide", data={"reason": "Offensive"})

    for client, address in ((customer, thread), (seller, f"/seller/messages/{conversation_id}")):
        page = client.get(address).get_data(as_text=True)
        assert "hidden by programme staff" in page
        assert photo.small_key not in page and photo.large_key not in page
    page = staff.get(f"/admin/conversations/{conversation_id}").get_data(as_text=True)
    assert f'<a href="/media/{photo.large_key}">' in page


def test_ones_data_download_lists_ones_own_message_photos(app):
    owner, _product, mina, customer, thread, conversation_id = started(app)
    send(customer, thread, "ببینید", [(jpeg(colour=RED), "mine.jpg")])
    send(as_user(app, owner), f"/seller/messages/{conversation_id}", "", [(png(), "theirs.png")])
    mine, theirs = db.session.scalars(sa.select(MessagePhoto).order_by(MessagePhoto.id))

    data = json.loads(customer.get("/auth/account/data").get_data(as_text=True))
    written = data["messages_written"]
    assert [m["body"] for m in written] == ["ببینید"]
    assert written[0]["conversation_id"] == conversation_id
    assert written[0]["photos"] == [
        {
            "url": f"http://localhost/media/{mine.large_key}",
            "thumbnail_url": f"http://localhost/media/{mine.small_key}",
        }
    ]
    assert theirs.large_key not in json.dumps(data)


def test_deleting_the_account_keeps_the_messages_with_their_photos(app):
    _owner, _product, mina, customer, thread, _conversation_id = started(app)
    send(customer, thread, "", [(jpeg(colour=RED), "mine.jpg")])
    files = media_files(app)
    response = customer.post("/auth/account/delete", data={"understood": "y"})
    assert response.status_code in (302, 303)
    db.session.expire_all()
    assert not db.session.get(type(mina), mina.id).active
    assert counts() == (1, 1) and media_files(app) == files


def test_stored_message_photos_are_never_deleted_as_unused(app):
    _owner, _product, mina, customer, thread, _conversation_id = started(app)
    send(customer, thread, "", [(jpeg(colour=RED), "mine.jpg")])
    photo = db.session.scalar(sa.select(MessagePhoto))
    keys = [photo.small_key, photo.large_key, "ab/cd/" + "0" * 64 + ".webp"]
    assert photo_files.unused_keys(keys) == keys[2:]
    assert photo.created_at <= utcnow()


def test_on_s3_photos_go_to_the_bucket_and_a_refused_message_leaves_none(s3_app, bucket):  # noqa: F811
    name, client = bucket
    _owner, _product, _mina, customer, thread, _conversation_id = started(s3_app)

    prefix = s3_app.config["S3_PREFIX"].strip("/") + "/"

    def objects() -> set[str]:
        listed = client.list_objects_v2(Bucket=name).get("Contents", [])
        return {o["Key"].removeprefix(prefix) for o in listed}

    refused = send(customer, thread, "", [(jpeg((700, 500), RED), "a.jpg"), (HTML, "b.jpg")])
    assert refused.status_code == 400 and objects() == set()
    assert send(customer, thread, "", [(jpeg((700, 500), RED), "a.jpg")]).status_code == 302
    photo = db.session.scalar(sa.select(MessagePhoto))
    assert objects() == {photo.small_key, photo.large_key}
    assert f'<a href="/media/{photo.large_key}">' in customer.get(thread).get_data(as_text=True)


def test_a_photos_field_that_is_not_a_file_is_ignored(app):
    _owner, _product, _mina, customer, thread, _conversation_id = started(app)
    assert customer.post(thread, data={"body": "سلام", "photos": "x.jpg"}).status_code == 302
    assert customer.post(thread, data={"photos": "x.jpg"}).status_code == 400
    assert counts() == (1, 0)
