"""Whole pages that are not one article: a data-protection notice, a front page.

A scraper sometimes saves the page a site shows before (or instead of) the article. Two
such pages are long, so a length limit cannot tell them from news, and ``clean`` asks here:

- A **data-protection notice** (the GDPR's, "RODO" in Polish: "Szanowny Użytkowniku, 25 maja
  2018 r. zaczęło obowiązywać Rozporządzenie ... 2016/679 ... administratorem Twoich danych
  osobowych jest ..."). A sentence is the notice's when it names data protection (personal
  data, processing, consent, a controller, the regulation) *and* addresses the reader or
  speaks for the site (``notices``' words for "you", "we", plus a few more). A page is the
  notice when such sentences hold most of its characters, the page carries one of the
  notice's marks (a salutation, the regulation's name or number, a controller, a box to
  tick), and little prose is left beside them. News *about* the GDPR speaks of companies,
  regulators and users in the third person, so its sentences are not the notice's.
- A **front page** (a list of teasers): in lines, many headline-like lines (no sentence
  end), section names, times, "more" links ("Więcej", "Czytaj dalej"), almost no prose;
  run together on one line, teasers cut short ("...") with a "more" link after each. An
  article with a "related stories" list at its end, or a live blog (a time, then prose),
  has the prose.

Each check reads the page once, in time linear in its length.
"""
from __future__ import annotations

import re

from samestory.ingest.notices import _ADDRESS, _SENTENCE, _SUBJECT

# -- data-protection notices -------------------------------------------------------------
# What a data-protection notice talks about, in the task's languages (with notices' subjects:
# privacy policies, "RODO").
_DATA_PROTECTION = re.compile(
    r"personal\s+(?:data|information)|data\s+protection|\bgdpr\b|\bprocess\w{0,3}+\s+(?:of\s+)?(?:your|personal|the(?:se)?\s+data)|\bcontroller|\bconsent|"
    r"legitimate\s+interest|legal\s+basis|right\s+to\s+(?:access|object|erasure|withdraw)|\bprivacy\b|"
    r"dan\w{0,4}+\s+osobow|ochron\w{0,4}+\s+danych|przetwarza|administrator|\bzgod(?:a|y|ę|ą|zie)\b|prywatno|"
    r"podstaw\w{0,4}+\s+prawn|uzasadnion\w{0,4}+\s+interes|"
    r"personenbezogen|persönlich\w{0,12}+\s+daten|datenschutz|\bds-?gvo\b|verarbeit\w{0,6}+\s+(?:ihrer\s+|von\s+|der\s+)?(?:personenbezogen|persönlich|daten)|datenverarbeitung|"
    r"einwilligung|rechtsgrundlage|berechtigt\w{0,12}+\s+interesse|"
    r"donn[ée]es\s+(?:à\s+caractère\s+)?personnelles|protection\s+des\s+données|\brgpd\b|traitement\s+de\s+(?:vos\s+|tes\s+|ces\s+|leurs\s+)?données|"
    r"consentement|confidentialité|intérêt\s+légitime|"
    r"datos\s+personales|protecci[óo]n\s+de\s+datos|tratamiento\s+de\s+(?:sus\s+|tus\s+|los\s+|estos\s+)?datos|consentimiento|privacidad|inter[ée]s\s+leg[íi]timo|"
    r"dati\s+personali|protezione\s+dei\s+dati|trattamento\s+dei\s+(?:suoi\s+|tuoi\s+|vostri\s+)?dati|\bconsenso|interesse\s+legittimo|"
    r"персональн\w{0,12}+\s+данн|защит\w{0,12}+\s+данн|обработк\w{0,3}+\s+(?:ваших\s+)?(?:персональн\w{0,3}+\s+)?данн|обрабатыва\w{0,6}+\s+(?:ваши\s+)?(?:персональн\w{0,3}+\s+)?данн|согласи[еяю]|конфиденциальност|"
    r"kişisel\s+veri|veri\s+koruma|\bkvkk\b|\bişlenme|veri\s+sorumlusu|\brıza|gizlilik|aydınlatma\s+metni|"
    r"个人数据|个人信息|数据保护|数据控制者|隐私|(?:处理|使用|收集)(?:您|你)的|您同意|同意我们|您的同意|"
    r"البيانات\s+الشخصية|بياناتك|حماية\s+البيانات|معالجة\s+(?:البيانات|بياناتك)|موافقت|الخصوصية|المتحكم",
    re.IGNORECASE,
)
# The words by which a notice speaks that ``notices._ADDRESS`` lacks: Polish "Cię", "Państwa",
# first-plural and second-singular verbs ("przetwarzamy", "zaktualizowaliśmy", "znajdziesz"),
# Spanish and Italian "we" verbs ("recopilamos", "trattiamo"), Turkish "your ..." ("verileriniz").
_MORE_ADDRESS = re.compile(
    r"(?-i:\b(?:Cię|Tobie|Tobą|Państw\w*|Pan(?:a|u)?|Pani|Lei|Suo|Suoi|Sua)\b)"
    r"|\b(?:twoi\w*|nam|nas|nami|wam|my|ti|tua|tue|vostr\w*|нам|нас|вам|вас|вами)\b"
    r"|\b\w{2,}(?:liśmy|łyśmy|ujemy|amy|emy|imy|esz|ysz|isz|amos|emos|iamo|ınız|iniz|unuz|ünüz)\b"
    r"|بياناتك|خصوصيتك|موافقتك|\bلك\b|نستخدم|نجمع|نعالج|سياستنا",
    re.IGNORECASE,
)
# Marks of the notice itself, of which a page needs one: a salutation, the regulation's
# name or number, the controller of "your data", a box to tick or a button to press.
_NOTICE_MARK = re.compile(
    r"2016\s*/\s*679|\brodo\b|\bgdpr\b|\bds-?gvo\b|\brgpd\b|\bkvkk\b|datenschutz-?grundverordnung|"
    r"general\s+data\s+protection\s+regulation|rozporządzeni\w{0,12}+\s+(?:o\s+ochronie\s+danych|parlamentu)|"
    r"r[èe]glement\s+g[ée]n[ée]ral\s+sur\s+la\s+protection|reglamento\s+general\s+de\s+protecci|"
    r"regolamento\s+generale\s+sulla\s+protezione|регламент\w{0,12}+\s+по\s+защите|genel\s+veri\s+koruma|通用数据保护条例|"
    r"اللائحة\s+العامة\s+لحماية|"
    r"(?:szanown|drog)\w{0,12}+\s+(?:użytkownik|czytelnik|państwo)|dear\s+(?:user|reader|customer|visitor)|"
    r"sehr\s+geehrte|liebe\w?\s+(?:leser|nutzer)|cher\s+(?:utilisateur|lecteur)|ch[èe]re\s+(?:utilisatrice|lectrice)|"
    r"(?:estimad|querid)\w\s+(?:usuari|lector)|(?:gentile|car)\w?\s+(?:utente|lettore)|"
    r"уважаем\w{0,12}+\s+(?:пользовател|читател)|(?:sayın|değerli)\s+(?:kullanıcı|okur|ziyaretçi)|尊敬的|亲爱的用户|"
    r"عزيزي\s+(?:المستخدم|القارئ)|"
    r"administrator\w{0,12}+\s+(?:\w+\s+){0,3}danych|data\s+controller|controller\s+of\s+your|verantwortliche\w{0,3}+\s+(?:im\s+sinne|stelle)|"
    r"responsable\s+d[eu]l?\s+(?:traitement|tratamiento)|titolare\s+del\s+trattamento|оператор\w{0,12}+\s+персональн|"
    r"veri\s+sorumlusu|数据控制者|المتحكم\s+في\s+البيانات|"
    r"zaznacz|kliknij|klikając|akceptuję|zgadzam\s+się|tick\s+the|check\s+the\s+box|\bclick|i\s+(?:agree|accept)|"
    r"klicken|stimme\s+zu|stimmen\s+sie|cliquez|cochez|j'accepte|haga\s+clic|marque\s+la\s+casilla|\bacepto|"
    r"clicca|accetto|нажм|нажим|согласен|tıkla|kabul\s+ediyorum|点击|我同意|انقر|أوافق",
    re.IGNORECASE,
)
# Quoted speech is someone else talking, not the site: "We take your privacy seriously," she said.
# (A button's label, "Akzeptieren und schließen", is shorter than _QUOTE_CHARS.)
_QUOTE_MARK = re.compile(r'["“”„«»「」]')
_CLOSES = {'"': '"', "“": "”", "„": "“”", "«": "»", "»": "«", "「": "」"}
_QUOTE_CHARS = 30
_NOTICE_SHARE = 0.3     # the notice's sentences hold at least this share of the page's characters,
_TALK_SHARE = 0.6       # with the other sentences that address the reader at least this share,
_NOTICE_PROSE = 600     # and the sentences that do not address the reader fewer characters than this
_NOTICE_SENTENCES = 2


def _addresses(sentence: str) -> bool:
    return _ADDRESS.search(sentence) is not None or _MORE_ADDRESS.search(sentence) is not None


def _unquoted(line: str) -> str:
    """``line`` with each quotation of ``_QUOTE_CHARS`` or more characters in it put as "«…»".
    One pass: a quotation mark closes the quotation open before it, or opens one."""
    out: list[str] = []
    done = 0                        # line[:done] is in out
    opened: tuple[str, int] | None = None
    for mark in _QUOTE_MARK.finditer(line):
        char, at = mark.group(0), mark.start()
        if opened is not None and char in _CLOSES[opened[0]]:
            if at - opened[1] - 1 >= _QUOTE_CHARS:
                out += [line[done:opened[1]], "«…»"]
                done = at + 1
            opened = None
        elif char in _CLOSES:
            opened = (char, at)
    return "".join(out) + line[done:]


def data_protection_notice(page: str) -> bool:
    """Whether ``page`` (headline and text) is a data-protection notice rather than news.

    True when the page carries a notice's mark (``_NOTICE_MARK``: a salutation, the
    regulation's name or number, a controller, a box to tick) and, sentence by sentence (a
    line break ends one too), two or more sentences that name data protection and address
    the reader (or speak for the site) hold ``_NOTICE_SHARE`` of its characters, together with
    the other sentences that address the reader ``_TALK_SHARE``, and the sentences that do
    not address the reader hold fewer than ``_NOTICE_PROSE`` characters: a long article with
    a notice under it stays an article (``notices`` takes the notice out)."""
    total = notice = talk = count = 0
    for line in page.splitlines():
        for match in _SENTENCE.finditer(_unquoted(line)):
            sentence = match.group(0).strip()
            if not sentence:
                continue
            total += len(sentence)
            if not _addresses(sentence):
                if total - notice - talk >= _NOTICE_PROSE:
                    return False        # (news: this is soon found, and the rest is not read)
                continue
            if _DATA_PROTECTION.search(sentence) or _SUBJECT.search(sentence):
                notice += len(sentence)
                count += 1
            else:
                talk += len(sentence)
    return (count >= _NOTICE_SENTENCES and notice >= _NOTICE_SHARE * total
            and notice + talk >= _TALK_SHARE * total and _NOTICE_MARK.search(page) is not None)


# -- front pages -------------------------------------------------------------------------
# A teaser's link to the rest ("Więcej", "Czytaj dalej", "Read more", "Weiterlesen", ...).
_MORE = (r"(?:więcej|czytaj\s+(?:dalej|więcej)|zobacz\s+więcej|read\s+more|continue\s+reading|more|see\s+more|"
         r"weiterlesen|mehr(?:\s+lesen)?|leer\s+m[áa]s|seguir\s+leyendo|ver\s+m[áa]s|lire\s+la\s+suite|"
         r"lire\s+plus|en\s+savoir\s+plus|leggi\s+(?:tutto|di\s+più)|continua\s+a\s+leggere|подробнее|"
         r"читать\s+(?:далее|дальше|полностью)|devamı(?:nı\s+oku)?|daha\s+fazla|اقرأ\s+المزيد|المزيد|"
         r"阅读全文|阅读更多|查看更多|更多)")
_MORE_LINE = re.compile(rf"[»›→>\s]*{_MORE}[\s»›→>.…:]*", re.IGNORECASE)
# Teasers run together on one line: a lede cut short then its link ("... » więcej"), or a link with an arrow.
_TEASER_LINK = re.compile(rf"(?:\.\.\.|…)\s*[»›→>]*\s*{_MORE}(?![\w:])|[»›→]\s*{_MORE}(?![\w:])|"
                          rf"(?<![\w:]){_MORE}\s*[»›→]", re.IGNORECASE)
_TIME = (r"(?:\d{1,2}[:.]\d{2}(?:\s*(?:uhr|h|am|pm|a\.m\.|p\.m\.))?|"
         r"\d{1,4}[-./]\d{1,2}[-./]\d{1,4}(?:,?\s*(?:godz\.\s*)?\d{1,2}[:.]\d{2})?|"
         r"\d+\s*(?:min\w{0,8}+|godz\w{0,8}+|h|hours?|hrs?|stunden?|heures?|horas?|ore|час\w{0,4}+|мин\w{0,4}+|saat|dakika|小时|分钟|"
         r"ساع\w{0,4}+|دقيق\w{0,4}+)\s*(?:temu|ago|fa|назад|önce|前)|(?:vor|il\s+y\s+a|hace)\s+\d+\s+\w+|منذ\s+\S+)")
_TIME_LINE = re.compile(rf"[\s|•·–-]*{_TIME}(?:\s*[|•·,–-]\s*{_TIME})*[\s|•·–-]*", re.IGNORECASE)
_MORE_END = re.compile(rf"(?:\.\.\.|…|[»›→])\s*{_MORE}[\s»›→.…]*$", re.IGNORECASE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
_SENTENCE_END = re.compile(r"[.。](?:['\"”»)\]]*)$")
_CUT_SHORT = re.compile(r"(?:\.\.\.|…)['\"”»)\]]*$")
_FRONT_LINES = 8        # a front page has at least this many lines
_FRONT_HEADLINES = 5    # of which this many are headline-like
_FRONT_LINKS = 2        # and this many are (or end in) a "more" link: times alone make a live ticker
_FRONT_PROSE = 0.25     # and sentences of prose hold at most this share of its characters
_FLAT_TEASERS = 3       # run together: at least this many teaser links,
_FLAT_SPACING = 350     # one every this many characters at most


def _words(line: str) -> int:
    """Words in ``line``; a Chinese or Japanese text has about one per two characters."""
    return len(line.split()) + len(_CJK.findall(line)) // 2


def front_page(body: str) -> bool:
    """Whether ``body`` (a page's text, without its headline) is a list of teasers.

    In lines: at least ``_FRONT_LINES`` lines, ``_FRONT_HEADLINES`` of them headline-like
    (3 to 25 words, no full stop at the end), ``_FRONT_LINKS`` "more" links (times alone are a
    live ticker's), and prose (a line that ends a sentence, or one over 25 words, unless a
    "more" link follows it or it is cut short) holding at most ``_FRONT_PROSE`` of the characters. Run together: ``_FLAT_TEASERS`` or more teaser links,
    at most ``_FLAT_SPACING`` characters apart on average."""
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    total = sum(len(line) for line in lines)
    if not total:
        return False
    teasers = len(_TEASER_LINK.findall(body))
    if teasers >= _FLAT_TEASERS and teasers * _FLAT_SPACING >= total:
        return True
    if len(lines) < _FRONT_LINES:
        return False
    headlines = prose = links = 0
    for i, line in enumerate(lines):
        if _MORE_LINE.fullmatch(line):
            links += 1
            continue
        if _TIME_LINE.fullmatch(line):
            continue
        linked = _MORE_END.search(line) is not None
        links += linked
        words = _words(line)
        ended = _SENTENCE_END.search(line) is not None and _CUT_SHORT.search(line) is None
        if linked or (i + 1 < len(lines) and _MORE_LINE.fullmatch(lines[i + 1])) or (words <= 25 and not ended):
            headlines += words >= 3           # a teaser (or a section name, under three words)
        else:
            prose += len(line)
    return headlines >= _FRONT_HEADLINES and links >= _FRONT_LINKS and prose <= _FRONT_PROSE * total


def page_reason(title: str, scraped: str) -> str | None:
    """Why a page is not an article by its make-up: ``"data-protection notice"``,
    ``"front page (a list of teasers)"``, or None.

    Args:
        title: the page's headline ("" when there is none).
        scraped: its text as scraped (it may start with the headline).
    """
    body = scraped.strip()
    if title and body.startswith(title):
        body = body[len(title):].lstrip()
    if not body:
        return None
    if data_protection_notice(f"{title}\n{body}"):
        return "data-protection notice"
    if front_page(body):
        return "front page (a list of teasers)"
    return None
