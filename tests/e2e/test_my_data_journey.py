import json
import zipfile

import pytest
from playwright.sync_api import expect

from members import personal_data
from members.models import EqualityMonitoring, User
from tests.conftest import PASSWORD
from tests.e2e.keyboard import tab_to, type_into

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SAVE = "form.member-form button[type=submit]"


def test_member_edits_profile_answers_equality_downloads_data_and_deletes_account(
    page, live_server, log_in, assert_accessible, member, coordinator, community, tmp_path
):
    log_in(page, member)
    page.goto(live_server.url)
    tab_to(page, "nav >> text=My profile")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="My profile", level=1)).to_be_visible()
    assert_accessible(page)

    # The profile: preferred name, pronouns, access needs, and no community news.
    type_into(page, "#id_name", "Mick")
    type_into(page, "#id_pronouns", "he/him")
    type_into(page, "#id_access_needs", "A hearing loop, please.")
    tab_to(page, "#id_news_delivery")
    page.keyboard.press("End")
    tab_to(page, SAVE)
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Your profile is saved.")
    expect(page.locator("#id_name")).to_have_value("Mick")
    expect(page.locator("#id_news_delivery")).to_have_value("never")
    assert_accessible(page)

    tab_to(page, "a[href='/me/equality/']")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Equality monitoring", level=1)).to_be_visible()
    assert_accessible(page)

    # A whole postcode, and no consent: both are refused next to their fields.
    type_into(page, "#id_postcode_district", "S10 2TN")
    tab_to(page, SAVE)
    page.keyboard.press("Enter")
    expect(page.locator("#id_postcode_district_error")).to_contain_text("first part")
    expect(page.locator("#id_consent_error")).to_contain_text("tick this box")
    expect(page.locator("#id_postcode_district")).to_have_value("S10 2TN")
    assert_accessible(page)

    # A closed select takes typed letters; radio buttons move with the arrow keys.
    tab_to(page, "#id_age_band")
    page.keyboard.type("35")
    tab_to(page, "#id_ethnic_group")
    page.keyboard.type("Indian")
    tab_to(page, "#id_sex_2")  # "Prefer not to say" is chosen until the person says otherwise
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    type_into(page, "#id_postcode_district", "s10")
    tab_to(page, "#id_consent")
    page.keyboard.press("Space")
    tab_to(page, SAVE)
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Your answers are saved.")
    expect(page.locator("#id_age_band")).to_have_value("35-44")
    expect(page.locator("#id_ethnic_group")).to_have_value("asian_indian")
    expect(page.locator("#id_sex_0")).to_be_checked()
    expect(page.locator("#id_postcode_district")).to_have_value("S10")
    assert_accessible(page)

    tab_to(page, "text=Back to my profile")
    page.keyboard.press("Enter")
    tab_to(page, "a[href='/me/data/']")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="My data", level=1)).to_be_visible()
    assert_accessible(page)

    tab_to(page, "form[action='/me/data/download/'] button")
    with page.expect_download() as download_info:
        page.keyboard.press("Enter")
    download = download_info.value
    assert download.suggested_filename == "convene-my-data.zip"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        sections = [section.name for section in personal_data.sections()]
        assert set(archive.namelist()) == {"data.json"} | {f"{name}.csv" for name in sections}
        data = json.loads(archive.read("data.json"))
        profile = archive.read("profile.csv").decode("utf-8-sig")
    [me] = data["profile"]
    assert (me["email"], me["preferred_name"], me["pronouns"]) == (member.email, "Mick", "he/him")
    assert me["access_needs"] == "A hearing loop, please." and me["news_delivery"] == "never"
    [answers] = data["equality"]
    assert answers["age"] == "35 to 44"
    assert answers["ethnic_group"] == "Asian or Asian British: Indian"
    assert answers["sex"] == "Female"
    assert answers["postcode_district"] == "S10"
    assert "A hearing loop, please." in profile

    # Delete the account with the current password and the tick.
    type_into(page, "#id_password", PASSWORD)
    tab_to(page, "#id_confirm")
    page.keyboard.press("Space")
    tab_to(page, "form[action='/me/data/delete/'] button")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Learning communities")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Your account is deleted.")
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    assert_accessible(page)

    erased = User.objects.get(pk=member.pk)
    assert erased.erased_at is not None and str(erased) == "a former member"
    assert not EqualityMonitoring.objects.filter(user=erased).exists()

    # The old email address and password no longer sign in.
    tab_to(page, "nav >> text=Sign in")
    page.keyboard.press("Enter")
    type_into(page, "#id_login", "michael@example.org")
    type_into(page, "#id_password", PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("form.account-form")).to_contain_text("not correct")
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    assert_accessible(page)

    # What they gave stays in the community's record, as from a former member.
    log_in(page, coordinator)
    page.goto(f"{live_server.url}/c/{community.slug}/manage/members/?status=left")
    expect(page.get_by_role("link", name="a former member")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("michael@example.org")
    assert_accessible(page)
