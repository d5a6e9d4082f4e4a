"""Site notices (cookie, consent, ad-blocker, newsletter banners) are not content; news about them is."""
import pytest

from samestory.ingest import clean_record
from samestory.ingest.notices import strip_notices


@pytest.mark.parametrize("banner", [
    "We use cookies to give you the best experience on our website. You can change your cookie settings at any time.",
    "Wir setzen auf unserer Website Cookies ein, um Ihnen den vollen Funktionsumfang anzubieten. "
    "Weitere Informationen finden Sie in unserer Datenschutzerklärung.",
    "Czy wiesz, że korzystasz z adblocka? Aby czytać nasze artykuły wyłącz AdBlocka lub dodaj wyjątek dla naszej domeny.",
    "Sitemizde çerezlerden faydalanıyoruz. Sitemizi kullanmaya devam ederek çerezleri kullanmamıza izin veriyorsunuz.",
    "Nous utilisons des cookies pour améliorer votre expérience. Consultez notre politique de confidentialité.",
    "点击注册，即表示您同意我们的隐私政策。",
])
def test_banners_in_each_language_are_removed_and_reported(banner):
    body = (f"The river burst its banks on Tuesday night, flooding the old town. {banner} "
            "Rescue teams evacuated 300 residents before dawn, the mayor said.")
    art = clean_record({"title": "Floods in the old town", "text": body})
    assert "burst its banks" in art.text and "evacuated 300 residents" in art.text
    assert not any(word in art.text.lower() for word in ("cookie", "çerez", "adblock", "隐私"))
    assert art.cleaning.removed and not any("river" in part or "Rescue" in part for part in art.cleaning.removed)


def test_banner_talk_next_to_a_notice_goes_with_it_but_news_about_privacy_stays():
    text = ("Dafür arbeiten wir mit Partnern zusammen, welche die Informationen zu Ihrer Verwendung unserer "
            "Webseite erhalten. Weitere Informationen zu Cookies finden Sie in unseren Datenschutzhinweisen.")
    assert strip_notices(text)[0] == ""
    news = ("Regulators fined the company for changing its privacy policy without consent. "
            "The firm said it uses cookies only for security. Users have until May to object.")
    assert strip_notices(news) == (news, [])
    recipe = "The bakery sold 4,000 cookies on Sunday. Our reporter tasted the new chocolate cookie."
    assert strip_notices(recipe) == (recipe, [])


def test_a_page_that_is_only_a_banner_is_kept_and_flagged():
    page = ("Um die Funktion unserer Website zu verbessern, sammeln wir Informationen über Sie. "
            "Details zu den Cookies, die wir verwenden, finden Sie in der Datenschutzerklärung.")
    art = clean_record({"text": page})
    assert art.text + art.title                               # the record is not lost
    assert art.cleaning.not_article == "cookie or consent banner"


def test_notification_widgets_and_unrendered_templates_go_line_by_line():
    """A widget delivered one line per paragraph: each line goes with the notice next to it."""
    page = ("Harbour bridge reopens after repairs\n"
            "Cerrar ¡Recibe notificaciones por correo electrónico sobre {{subject}} todos los días!\n\n"
            "Su notificación se ha guardado.\n\n{{descripción}}\n\n"
            "Las notificaciones por correo electrónico solo se envían una vez al día.\n\n"
            "The bridge carried 40,000 vehicles a day before it closed in March.")
    text, removed = strip_notices(page)
    assert text == ("Harbour bridge reopens after repairs\n\n"
                    "The bridge carried 40,000 vehicles a day before it closed in March.")
    assert len(removed) == 4
    adblock = "港口大桥修复后重新开放\n我们注意到您正在屏蔽广告！\n\n关闭广告拦截器，继续支持新闻业。或者购买订阅以无限访问。"
    assert strip_notices(adblock)[0] == "港口大桥修复后重新开放"
    # a short news line about subscriptions, with no notice beside it, stays
    news = "The newspaper lost 12,000 subscribers last year. Its owner blamed the paywall."
    assert strip_notices(news) == (news, [])


# A consent banner served in place of the article, as scrapers keep it: the headline, the banner, a
# scrap of it that no notice rule names (written for these tests, in the manner of the Polish and
# German pages of the SemEval data).
_POLISH_BANNER = (
    "Aby ulepszać naszą witrynę i wyświetlać dopasowane reklamy, zbieramy anonimowe dane techniczne, także przez "
    "narzędzia naszych partnerów. Opis przetwarzania danych można znaleźć w polityce prywatności. Technologie, "
    "których używamy, opisano w informacji o plikach cookie. Klikając „Zaakceptuj i zamknij”, wyrażasz zgodę "
    "na przetwarzanie danych. Zgodę można w każdej chwili wycofać, zmieniając ustawienia przeglądarki.")
_GERMAN_BANNER = (
    "Cookie-Informationen: Diese Seite verwendet Cookies. Für eine vollständige Nutzung der Webseite werden "
    "Cookies benötigt. Sie stimmen der Verwendung von Cookies durch Anklicken von „OK“ zu. Nähere Informationen "
    "finden Sie in unseren Datenschutzbestimmungen.")


@pytest.mark.parametrize("page", [
    f"Rząd przełożył rozmowy handlowe z Wielką Brytanią {_POLISH_BANNER} Państwo decydują o zakresie zgody.",
    f"Sportminister mahnt Freizeitsportler zur Vorsicht - News {_GERMAN_BANNER} Sie können auch zu Analysezwecken "
    "gesetzt werden.",
])
def test_a_banner_that_took_the_headline_with_it_and_left_a_scrap_is_flagged(page):
    """What the notices leave of such a page (the banner's last half-sentence) is not the
    article: the page is kept as it is and flagged, and its pairs get the prior (issue 32)."""
    art = clean_record({"text": page})
    assert art.cleaning.not_article == "cookie or consent banner"
    assert "Zaakceptuj" in art.full_text or "Datenschutzbestimmungen" in art.full_text     # kept as it is


def test_a_banner_below_its_headline_leaves_a_headline_only_article():
    """Where the page's headline survives the banner, the page is judged by it, as a headline-only
    record is: its headline tells more of the article than a prior (training/LOG.md, seventeenth session)."""
    art = clean_record({"text": f"Sportminister mahnt Freizeitsportler zur Vorsicht\n\nOK\n\n{_GERMAN_BANNER}"})
    assert art.cleaning.not_article is None
    assert art.title == "Sportminister mahnt Freizeitsportler zur Vorsicht" and "Cookies" not in art.full_text


def test_an_article_beside_a_banner_stays_an_article():
    lead = ("Der Sportminister hat Freizeitsportler am Sonntag zur Vorsicht gemahnt. In den Bergen seien am "
            "Wochenende vier Wanderer verunglückt, zwei von ihnen schwer, sagte er in Wien.")
    art = clean_record({"text": f"Sportminister mahnt Freizeitsportler zur Vorsicht\n\n{_GERMAN_BANNER}\n\n{lead}"})
    assert art.cleaning.not_article is None
    assert art.text == lead and art.title == "Sportminister mahnt Freizeitsportler zur Vorsicht"
    short = "Vier Wanderer verunglückten am Wochenende in den Bergen, sagte der Minister."
    small_banner = "Diese Seite verwendet Cookies, wir bitten um Ihre Zustimmung."
    art = clean_record({"text": f"Sportminister mahnt zur Vorsicht\n\n{short} {small_banner}"})
    assert art.cleaning.not_article is None and art.text == short      # the notice does not outweigh it
    headline_only = clean_record({"text": "Sportminister mahnt Freizeitsportler zur Vorsicht"})
    assert headline_only.cleaning.not_article is None
