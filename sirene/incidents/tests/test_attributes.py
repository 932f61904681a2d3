from __future__ import annotations

from sirene.cases.attributes import extract_attributes, extract_error_codes


def test_it_reads_device_os_browser_and_app_version_from_german_text() -> None:
    attrs = extract_attributes(
        "Auf meinem iPhone in der App-Version 3.2 stürzt alles ab, Safari geht auch nicht"
    )
    assert attrs["device"] == "iPhone"
    assert attrs["os"] == "iOS"
    assert attrs["browser"] == "Safari"
    assert attrs["app_version"] == "3.2"
    assert attrs["platform"] == "mobile"


def test_it_says_nothing_when_the_text_names_two_browsers() -> None:
    attrs = extract_attributes("Weder mit Chrome noch mit Firefox unter Windows")
    assert "browser" not in attrs
    assert attrs["os"] == "Windows"
    assert attrs["platform"] == "desktop"


def test_it_does_not_see_a_mac_in_machen() -> None:
    assert extract_attributes("Was kann ich machen? Die Seite lädt nicht.") == {}


def test_android_brands_imply_android() -> None:
    assert extract_attributes("Huawei P30, Videos laufen nicht")["os"] == "Android"


def test_error_codes_need_an_error_word_nearby() -> None:
    assert extract_error_codes("Beim Login kommt Fehler 502 Bad Gateway") == ["502"]
    assert extract_error_codes("Ich habe 499 Euro bezahlt") == []
    assert "E-1234" in extract_error_codes("Fehlercode: E-1234")
