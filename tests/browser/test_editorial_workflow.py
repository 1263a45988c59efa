"""A writer and an editor take a review through its life in a real browser: the writer writes
and submits, the editor sends it back with a note, the writer reads the note, fixes and
resubmits, the editor schedules it, and readers see it when it is due."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from reviews.models import Review
from tests.browser.test_admin_editing import choose, log_in, save
from tests.factories import make_editor, make_film, make_writer

pytestmark = pytest.mark.browser

NOTE = "The second half drags: cut the flashback, and say what the ending does."


def test_a_review_goes_from_the_writer_to_the_editor_and_back_and_is_scheduled(
    page, new_context, assert_accessible
):
    make_film("The Cranes Are Flying", year=1957)
    make_writer("wendy")
    make_editor("edith", first_name="Edith")
    writer = log_in(new_context().new_page(), "wendy")
    editor = log_in(page, "edith")  # the page axe checks

    # 1. The writer writes and submits: no status menu, one button.
    writer.goto("/admin/reviews/review/add/")
    expect(writer.locator("#id_status")).to_have_count(0)
    choose(writer, "id_film", "Cranes", "The Cranes Are Flying (1957)")
    writer.locator("#id_headline").fill("Love and war in one breathless take")
    writer.locator("#id_critique").fill("Urusevsky's camera runs with her grief.")
    buttons = writer.locator('button[name="_workflow"]')
    expect(buttons).to_have_text(["Submit for review"])
    assert save(writer, "Submit for review") == 302
    expect(writer.locator(".messagelist .success")).to_contain_text("was submitted for review")
    expect(writer.get_by_role("heading", name="State: In review")).to_be_visible()
    expect(writer.locator("#id_critique")).to_have_count(0)  # the editors' now
    review = Review.objects.get()

    # 2. The editor finds it on the dashboard and sends it back with a note.
    editor.goto("/admin/")
    editor.get_by_role("link", name="Editorial dashboard").click()
    expect(editor.locator(".workflow-time-zone")).to_contain_text("UTC")
    waiting = editor.get_by_role("region", name="Waiting for review")
    waiting.get_by_role("link", name="Love and war in one breathless take").click()
    # It previews the review first: the page readers will see, under the preview banner.
    editor.get_by_role("link", name="Preview on site", exact=True).click()
    banner = editor.get_by_role("complementary", name="Preview")
    expect(banner).to_contain_text("Preview — not published. State: In review.")
    expect(editor.get_by_text("Urusevsky's camera runs with her grief.")).to_be_visible()
    editor.go_back()
    expect(editor.locator('button[name="_workflow"]')).to_have_text(
        ["Send back to the writer", "Schedule", "Publish now", "Return to draft"]
    )
    assert save(editor, "Send back to the writer") == 200  # no note: refused, nothing lost
    expect(editor.locator(".field-workflow_note .errorlist")).to_contain_text("needs a note")
    editor.get_by_label("Note:").fill(NOTE)
    assert save(editor, "Send back to the writer") == 302
    expect(editor.get_by_role("heading", name="State: Sent back")).to_be_visible()
    assert_accessible()

    # 3. The writer reads the note on the dashboard and the review, fixes and resubmits.
    writer.goto("/admin/reviews/review/dashboard/")
    sent_back = writer.get_by_role("region", name="Sent back to me")
    expect(sent_back).to_contain_text(NOTE)
    sent_back.get_by_role("link", name="Love and war in one breathless take").click()
    expect(writer.locator(".workflow-callout")).to_contain_text("Sent back by Edith")
    expect(writer.locator(".workflow-callout")).to_contain_text(NOTE)
    writer.locator("#id_critique").fill("Urusevsky's camera runs with her grief; no flashback.")
    writer.get_by_label("Note:").fill("Cut it, and rewrote the ending.")
    assert save(writer, "Submit for review") == 302
    expect(writer.locator(".workflow-history tbody tr").first).to_contain_text(
        "Cut it, and rewrote the ending."
    )

    # 4. The editor schedules it for tomorrow at 09:00.
    editor.reload()
    tomorrow = timezone.localtime() + timedelta(days=1)
    editor.locator("#id_published_at_0").fill(f"{tomorrow:%Y-%m-%d}")
    editor.locator("#id_published_at_1").fill("09:00:00")
    assert save(editor, "Schedule") == 302
    expect(editor.locator(".messagelist .success")).to_contain_text(
        f"It goes live on {tomorrow:%Y-%m-%d} at 09:00 (UTC)."
    )
    review.refresh_from_db()
    assert review.state == Review.State.SCHEDULED
    assert "no flashback" in review.critique
    assert [change.action for change in review.transitions.all()] == [
        "schedule",
        "submit",
        "send_back",
        "submit",
    ]

    # ... and the dashboard lists it under that day; readers do not see it yet.
    editor.goto("/admin/reviews/review/dashboard/")
    scheduled = editor.get_by_role("region", name=re.compile("Scheduled for the next"))
    expect(scheduled).to_contain_text(f"{tomorrow:%A} {tomorrow.day} {tomorrow:%B %Y}")
    expect(scheduled).to_contain_text("09:00 Love and war in one breathless take")
    assert_accessible()
    reader = new_context().new_page()
    response = reader.goto(review.get_absolute_url())
    assert response.status == 404

    # 5. When its time comes, readers see it, with no job run: the live server's clock (same
    # process) is moved past 09:00 tomorrow.
    due = review.published_at + timedelta(minutes=1)
    with time_machine.travel(due, tick=True):
        response = reader.goto(review.get_absolute_url())
        assert response.status == 200
        expect(reader.get_by_role("heading", level=1)).to_have_text(
            "Love and war in one breathless take"
        )
        reader.goto("/reviews/")
        expect(reader.get_by_role("link", name=re.compile("breathless take"))).to_be_visible()
