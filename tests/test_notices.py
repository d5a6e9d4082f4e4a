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
