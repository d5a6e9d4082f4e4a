"""Site notices inside the text: cookie and consent banners, ad-blocker pleas,
privacy-policy and notification prompts, in the task's languages.

Scrapers often flatten such a banner into the article's first lines, where it
weighs most: two unrelated articles from one site then read alike, and a German
article's head vector is half consent text. A line filter cannot catch them (many
scrapes are one line per page), so this works on sentences. A sentence is a
notice when it names one of the banner's subjects (cookies, a privacy policy, an
ad blocker, push notifications) *and* addresses the reader or speaks for the site
("you", "Sie", "vous", "Twoje", "您", "we", "unsere"...): a news sentence about a
privacy policy or a cookie recipe speaks of them in the third person. A sentence
holding a template the scraper got unrendered ("{{subject}}") is a notice too. The
sentences next to a notice, across line breaks (a widget often comes one line a
paragraph), go with it when they too address the reader about the site, its data
or its ads, name the banner's subject ("Dafür arbeiten wir mit Partnern zusammen,
welche die Informationen zu Ihrer Verwendung unserer Webseite erhalten"), or are
a widget's short lines ("Your notification has been saved.").
"""
from __future__ import annotations

import re

_SUBJECT = re.compile(
    r"datenschutz(?:erklärung|hinweis\w{0,3}+|richtlinie\w?|einstellungen|bestimmungen|informationen)|"
    r"privacy\s+(?:policy|settings|notice)|"
    r"politique\s+de\s+confidentialité|política\s+de\s+privacidad|informativa\s+(?:sulla\s+)?privacy|"
    r"polity[kc]\w{0,8}+\s+prywatności|\brodo\b|gizlilik\s+politika|политик\w{0,8}+\s+конфиденциальности|隐私政策|隐私权|"
    r"سياسة\s+الخصوصية|ملفات\s+تعريف\s+الارتباط|ad\s?-?block|\bublock|werbeblocker|bloqueur\s+de\s+pub|"
    r"bloqueador\s+de\s+anuncios|广告拦截|(?:push|email|e-mail)\s+notifications?|notifications?\s+push|"
    r"benachrichtigungen|recaptcha|netiquette|terms\s+of\s+(?:service|use)|user\s+agreement|nutzungsbedingungen|"
    r"notificaciones\s+por\s+correo|notifications?\s+par\s+e-?mail|notifiche\s+(?:via\s+|per\s+)?e-?mail|"
    r"powiadomienia\s+e-?mail|e-?mail-?powiadomie|уведомлени\w{0,8}+\s+по\s+(?:электронной\s+почте|e-?mail)|"
    r"e-?posta\s+bildirim|电子邮件通知|邮件通知|屏蔽广告|广告屏蔽",
    re.IGNORECASE,
)
# Notification and subscription widgets: their short lines ("Your notification has been saved.",
# "Su notificación se ha guardado.") go with a notice next to them.
_WIDGET = re.compile(
    r"notifica\w*|benachrichtigung\w*|powiadomie\w*|уведомлен\w*|bildirim\w*|通知|订阅|subscri\w*|suscri\w*|"
    r"abonn\w*|abbonam\w*|prenumerat\w*",
    re.IGNORECASE,
)
_WIDGET_WORDS = 12
# A template the scraper got unrendered ("Get email notifications on {{subject}} daily!").
_PLACEHOLDER = re.compile(r"\{\{\s*[^{}\s]{1,40}\s*\}\}")
# Cookies are a banner's subject only where the site, its data or the banner's verbs
# come up too: "our reporter tasted the new chocolate cookie" is news.
_COOKIE = re.compile(r"cookie|çerez|ciasteczk", re.IGNORECASE)
# Words by which a banner speaks to the reader or for the site. "us", and German
# "Sie"/"Ihr", only in their case (else they are "US", "they", "her").
_ADDRESS = re.compile(
    r"(?-i:\b(?:us|Sie|Ihr\w*|Ihnen)\b)"
    r"|\b(?:you|your|we|our|vous|votre|vos|nous|notre|nos|usted|tu|tus|nosotros|nuestr\w*|acept\w*|"
    r"tuo|tuoi|noi|nostr\w*|accett\w*|acconsent\w*|ty|ci|twoj\w*|twój|nasz\w*|wyrażasz|(?:za)?akceptuj\w*|"
    r"korzystasz|używasz|używamy|stosujemy|zbieramy|przetwarzamy|wykorzystujemy|znajdziesz|możesz|zgadzasz|"
    r"wyłącz\w*|вы|ваш\w*|мы|наш\w*|siz\w*|biz\w*|kabul|wir|unser\w*|akzeptier\w*)\b"
    r"|您|我们|你|نحن|موقعنا"
    r"|\b\w+(?:[ıiuü]yoruz|[ıiuü]yorsunuz|sınız|siniz|sunuz|sünüz)\b",      # Turkish "we ...", "you ..."
    re.IGNORECASE,
)
_SITE = re.compile(
    r"web\s?-?site|webseite|internetauftritt|\bsite\w*|\bsito\b|\bsitio\b|strona|stronie|сайт|网站|موقع|browser|"
    r"\bpartner|werbung|reklam\w*|\bads?\b|annonces|publicidad|pubblicità|anzeigen|daten\b|\bdata\b|dane\b|danych|"
    r"donn[ée]es|datos|dati\b|данн\w*|数据|newsletter|subscri\w*|abonn\w*|treści|contenu|content|inhalte|"
    r"personal\s+information|persönlich\w*|osobow\w*|personnelles|personales|personali",
    re.IGNORECASE,
)
# What a cookie banner does with them: uses them, asks to accept them, offers settings.
_COOKIE_TALK = re.compile(
    r"\b(?:use[sd]?|using|utilis\w*|utiliz\w*|verwend\w*|nutz\w*|setzen|używa\w*|usiamo|utilizz\w*|"
    r"использу\w*|kullan\w*|accept\w*|akzept\w*|zgod\w*|consent\w*|einverstanden|izin|settings|"
    r"einstellungen|paramètres|ustawie\w*|configuraci\w*|impostazioni|настро\w*|ayar\w*|enabled?)\b|使用|设置",
    re.IGNORECASE,
)
# (Each pattern runs in time linear in the text: a word of any length is looked through
# once, from its start, or a few letters into it ("\w{0,8}+"), never from each of its letters.)
_SENTENCE = re.compile(r"[^.!?。！？؟]*(?:[.!?。！？؟]+[\"'”»)]*|$)")   # every character in one
_MAX_WORDS = 60      # a longer "sentence" is prose that a scraper ran together, not a banner line


def _names_subject(sentence: str) -> bool:
    return _SUBJECT.search(sentence) is not None or (
        _COOKIE.search(sentence) is not None
        and (_SITE.search(sentence) is not None or _COOKIE_TALK.search(sentence) is not None))


def _is_notice(sentence: str) -> bool:
    return len(sentence.split()) <= _MAX_WORDS and (
        _PLACEHOLDER.search(sentence) is not None
        or (_names_subject(sentence) and _ADDRESS.search(sentence) is not None))


def _is_banner_talk(sentence: str) -> bool:
    """What may go with a notice next to it: the banner's subject, or the site talking to the reader."""
    words = len(sentence.split())
    return words <= _MAX_WORDS and (
        _names_subject(sentence) or (_SITE.search(sentence) is not None and _ADDRESS.search(sentence) is not None)
        or (words <= _WIDGET_WORDS and _WIDGET.search(sentence) is not None))


def strip_notices(text: str) -> tuple[str, list[str]]:
    """Drop notice sentences (and their banner-talk neighbours); return the text and what was dropped.
    Neighbours are the sentences before and after, across line breaks: a scraper often gives
    each line of a banner a paragraph of its own."""
    if _SUBJECT.search(text) is None and _COOKIE.search(text) is None and _PLACEHOLDER.search(text) is None:
        return text, []      # the common case: three scans
    lines = [[m.group(0) for m in _SENTENCE.finditer(line) if m.group(0).strip()] for line in text.split("\n")]
    flat = [s for line in lines for s in line]
    drop = [_is_notice(s) for s in flat]
    if not any(drop):
        return text, []
    for order in (range(len(flat)), range(len(flat) - 1, -1, -1)):      # spread forward, then back
        for i in order:
            if not drop[i] and _is_banner_talk(flat[i]) and any(
                    0 <= j < len(drop) and drop[j] for j in (i - 1, i + 1)):
                drop[i] = True
    removed = [s.strip() for s, d in zip(flat, drop) if d]
    kept, at = [], 0
    for line, parts in zip(text.split("\n"), lines):
        mine = drop[at:at + len(parts)]
        kept.append("".join(s for s, d in zip(parts, mine) if not d).strip() if any(mine) else line)
        at += len(parts)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip(), removed
