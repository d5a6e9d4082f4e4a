"""Pages that are not an article however long they are: a data-protection (GDPR, "RODO")
notice and a news portal's front page (a list of teasers) are kept but flagged, in the
task's languages; news about data protection, an article with a "related stories" list and
a live blog stay articles. All texts here are written for these tests."""
import pytest

from samestory.ingest import clean_record
from samestory.ingest.pages import data_protection_notice, front_page

DP = "data-protection notice"
FRONT = "front page (a list of teasers)"

NOTICES = {
    "pl": """Szanowny Użytkowniku,
25 maja 2018 r. zaczęło obowiązywać Rozporządzenie Parlamentu Europejskiego i Rady (UE) 2016/679 (RODO). Dlatego chcemy poinformować Cię o zasadach przetwarzania Twoich danych osobowych.
Administratorem Twoich danych osobowych jest Wydawnictwo Przykładowe Sp. z o.o. z siedzibą w Lublinie.
Twoje dane przetwarzamy w celu świadczenia usług, dopasowania treści i reklam oraz w celach analitycznych.
Podstawą prawną przetwarzania jest Twoja zgoda lub nasz prawnie uzasadniony interes.
Masz prawo dostępu do swoich danych, ich sprostowania i usunięcia oraz prawo do wycofania zgody w dowolnym momencie.
Więcej informacji znajdziesz w naszej Polityce prywatności.
Klikając „Przejdź do serwisu”, wyrażasz zgodę na przetwarzanie Twoich danych osobowych.""",
    "de": """Liebe Leserin, lieber Leser,
seit dem 25. Mai 2018 gilt die Datenschutz-Grundverordnung (DSGVO). Wir möchten Sie deshalb darüber informieren, wie wir Ihre personenbezogenen Daten verarbeiten.
Verantwortliche Stelle für die Verarbeitung Ihrer Daten ist die Beispiel Medien GmbH in Berlin.
Wir verarbeiten Ihre Daten, um Ihnen unsere Inhalte bereitzustellen, Werbung anzuzeigen und die Nutzung unseres Angebots zu analysieren.
Rechtsgrundlage ist Ihre Einwilligung oder unser berechtigtes Interesse.
Sie haben das Recht auf Auskunft, Berichtigung und Löschung Ihrer Daten und können Ihre Einwilligung jederzeit widerrufen.
Mit einem Klick auf „Zustimmen“ willigen Sie in die Verarbeitung Ihrer personenbezogenen Daten ein.""",
    "en": """Dear reader,
The General Data Protection Regulation (EU) 2016/679 (GDPR) applies from 25 May 2018. We would like to tell you how we process your personal data and what rights you have.
The controller of your personal data is Example News Ltd, 1 High Street, Bristol.
We use your data to provide our services, to show you relevant advertising and to measure how our website is used.
The legal basis for processing is your consent or our legitimate interest.
You have the right to access, correct and delete your data, and you may withdraw your consent at any time.
For more information, please read our Privacy Policy.
By clicking "I agree" you consent to the processing of your personal data for these purposes.""",
    "fr": """Cher lecteur,
Le Règlement général sur la protection des données (RGPD) est entré en application le 25 mai 2018. Nous souhaitons vous informer de la manière dont nous traitons vos données personnelles.
Le responsable du traitement de vos données est la société Exemple Médias SA, à Lyon.
Nous utilisons vos données pour vous fournir nos services, vous proposer des publicités adaptées et mesurer l'audience de notre site.
Le traitement de vos données repose sur votre consentement ou sur notre intérêt légitime.
Vous disposez d'un droit d'accès, de rectification et d'effacement, et vous pouvez retirer votre consentement à tout moment.
Pour en savoir plus, consultez notre politique de confidentialité.
En cliquant sur « J'accepte », vous consentez au traitement de vos données personnelles.""",
    "es": """Estimado usuario:
El 25 de mayo de 2018 entró en vigor el Reglamento General de Protección de Datos (RGPD). Queremos informarle de cómo tratamos sus datos personales.
El responsable del tratamiento de sus datos es Ejemplo Noticias S.L., con domicilio en Valencia.
Utilizamos sus datos para prestarle nuestros servicios, mostrarle publicidad adaptada y analizar el uso de nuestro sitio web.
La base jurídica del tratamiento es su consentimiento o nuestro interés legítimo.
Usted tiene derecho a acceder, rectificar y suprimir sus datos, y puede retirar su consentimiento en cualquier momento.
Para más información, consulte nuestra Política de Privacidad.
Al hacer clic en «Acepto», usted da su consentimiento al tratamiento de sus datos personales.""",
    "it": """Gentile utente,
dal 25 maggio 2018 è applicabile il Regolamento generale sulla protezione dei dati (UE) 2016/679. Desideriamo informarti su come trattiamo i tuoi dati personali.
Il titolare del trattamento dei tuoi dati è Esempio Editore S.p.A., con sede a Torino.
Utilizziamo i tuoi dati per fornirti i nostri servizi, mostrarti pubblicità pertinente e analizzare l'uso del nostro sito.
La base giuridica del trattamento è il tuo consenso o il nostro legittimo interesse.
Hai il diritto di accedere ai tuoi dati, di rettificarli e di cancellarli, e puoi revocare il tuo consenso in qualsiasi momento.
Per saperne di più, leggi la nostra informativa sulla privacy.
Cliccando su «Accetto» acconsenti al trattamento dei tuoi dati personali.""",
    "ru": """Уважаемый пользователь!
25 мая 2018 года вступил в силу Общий регламент по защите данных (GDPR). Мы хотим рассказать вам, как мы обрабатываем ваши персональные данные.
Оператором ваших персональных данных является ООО «Пример Медиа», Москва.
Мы используем ваши данные, чтобы предоставлять вам наши услуги, показывать подходящую рекламу и анализировать посещаемость нашего сайта.
Обработка ваших данных основана на вашем согласии или нашем законном интересе.
Вы вправе получить доступ к своим данным, исправить или удалить их, а также в любой момент отозвать своё согласие.
Подробнее читайте в нашей политике конфиденциальности.
Нажимая «Принять», вы даёте согласие на обработку ваших персональных данных.""",
    "tr": """Sayın kullanıcımız,
Kişisel Verilerin Korunması Kanunu (KVKK) ve AB Genel Veri Koruma Tüzüğü kapsamında sizi bilgilendirmek istiyoruz.
Kişisel verileriniz, veri sorumlusu sıfatıyla Örnek Medya A.Ş. tarafından işlenmektedir.
Verilerinizi size hizmet sunmak, ilgi alanlarınıza uygun reklamlar göstermek ve sitemizin kullanımını ölçmek için kullanıyoruz.
Kişisel verilerinizin işlenmesinin hukuki sebebi açık rızanız veya meşru menfaatimizdir.
Verilerinize erişme, bunları düzelttirme ve sildirme hakkına sahipsiniz; rızanızı dilediğiniz zaman geri alabilirsiniz.
Ayrıntılı bilgi için gizlilik politikamızı inceleyebilirsiniz.
"Kabul ediyorum" butonuna tıklayarak kişisel verilerinizin işlenmesine onay vermiş olursunuz.""",
    "zh": """尊敬的用户：
欧盟《通用数据保护条例》（GDPR）已于2018年5月25日生效。我们希望向您说明我们如何处理您的个人信息。
您的个人数据的控制者为示例传媒有限公司。
我们使用您的数据来提供服务、向您展示相关广告并分析网站的使用情况。
我们处理您的个人信息的法律依据是您的同意或我们的合法利益。
您有权访问、更正和删除您的个人信息，并可随时撤回您的同意。
详情请参阅我们的隐私政策。
点击“同意”即表示您同意我们按照上述目的处理您的个人信息。""",
    "ar": """عزيزي المستخدم،
دخلت اللائحة العامة لحماية البيانات حيز التنفيذ في 25 مايو 2018. نود أن نوضح لك كيف نقوم بمعالجة بياناتك الشخصية.
المتحكم في بياناتك الشخصية هو شركة المثال للإعلام.
نستخدم بياناتك لتقديم خدماتنا وعرض إعلانات مناسبة وتحليل استخدام موقعنا.
تستند معالجة بياناتك إلى موافقتك أو إلى مصلحتنا المشروعة.
يحق لك الوصول إلى بياناتك وتصحيحها وحذفها، ويمكنك سحب موافقتك في أي وقت.
لمزيد من المعلومات، يرجى الاطلاع على سياسة الخصوصية الخاصة بنا.
بالنقر على "أوافق" فإنك توافق على معالجة بياناتك الشخصية.""",
}


@pytest.mark.parametrize("lang", sorted(NOTICES))
def test_a_data_protection_notice_is_flagged_in_each_language(lang):
    notice = NOTICES[lang]
    # as a scraper saves it: the news headline it was after, then the notice in its place
    article = clean_record({"title": "Harbour bridge reopens after repairs", "text": notice})
    assert article.cleaning.not_article == DP
    assert article.text and article.title       # kept: the record is not lost
    assert clean_record({"text": notice}).cleaning.not_article == DP


def test_a_long_notice_is_flagged_however_long():
    """Past ``not_article_max_chars`` the signature check no longer looks; the make-up still tells."""
    long = NOTICES["pl"] + "\n" + NOTICES["pl"].split("\n", 1)[1]
    assert len(long) > 1500
    assert clean_record({"title": "Noworoczny pokaz fajerwerków", "text": long}).cleaning.not_article == DP


GDPR_NEWS = {
    "en": """The EU fined Meta 1.2 billion euros under the GDPR on Monday, the largest penalty since the regulation took effect in May 2018.
Ireland's Data Protection Commission said the company had transferred the personal data of European users to the United States without adequate safeguards, in breach of Regulation (EU) 2016/679.
Meta was ordered to stop processing the data in the US within six months. “We will appeal this decision and seek a stay of the orders,” the company said in a statement, calling the fine unjustified.
Privacy campaigners welcomed the ruling. Max Schrems, whose complaint started the case, said users had waited ten years for it.
The commission said other firms that process personal data of EU citizens should review their transfers.""",
    "pl": """Prezes Urzędu Ochrony Danych Osobowych nałożył na spółkę z Warszawy karę w wysokości 2,8 mln zł za naruszenie przepisów RODO.
Jak poinformował urząd, administrator danych nie zabezpieczył odpowiednio danych osobowych klientów, które wyciekły w wyniku ataku hakerskiego.
Wyciek dotyczył ponad 100 tysięcy osób. Spółka nie zawiadomiła o nim klientów w terminie przewidzianym w rozporządzeniu 2016/679.
„Każdy administrator musi pamiętać, że odpowiada za bezpieczeństwo powierzonych mu danych” – podkreślił rzecznik urzędu.
Firma zapowiedziała, że odwoła się od decyzji do sądu administracyjnego. To jedna z najwyższych kar nałożonych w Polsce na podstawie RODO.""",
    "de": """Die Zahl der Bußgelder nach der Datenschutz-Grundverordnung (DSGVO) ist im vergangenen Jahr deutlich gestiegen.
Die Datenschutzbehörden der Länder verhängten insgesamt 185 Bußgelder, wie eine Umfrage unter den Landesbeauftragten ergab.
Die meisten Verfahren betrafen Unternehmen, die personenbezogene Daten ohne Einwilligung der Betroffenen verarbeitet hatten.
„Wir prüfen in mehreren Fällen weitere Verfahren“, sagte der bayerische Datenschutzbeauftragte.
Seit dem Inkrafttreten der DSGVO im Mai 2018 müssen Verantwortliche Datenpannen binnen 72 Stunden melden.""",
}


@pytest.mark.parametrize("lang", sorted(GDPR_NEWS))
def test_news_about_data_protection_stays_an_article(lang):
    article = clean_record({"title": "Regulators fine a firm under the GDPR", "text": GDPR_NEWS[lang]})
    assert article.cleaning.not_article is None
    assert not data_protection_notice(GDPR_NEWS[lang])


def test_news_quoting_a_privacy_pledge_stays_an_article():
    """Quoted speech addresses the reader too, but it is someone speaking, not the site."""
    news = ("\"We have a responsibility to protect your data, and if we cannot then we do not deserve to serve you,\" "
            "the chief executive said.\n\"We will make sure you understand what data we process and we will ask for "
            "your consent,\" he added.\n\"Our privacy tools will be easier to use,\" the company said.\n"
            "The GDPR comes into force in May.")
    assert clean_record({"title": "Social network apologises over data leak", "text": news}).cleaning.not_article is None


def test_an_article_with_a_notice_under_it_stays_an_article():
    story = GDPR_NEWS["en"].replace("GDPR", "new rules").replace("(EU) 2016/679", "the union's law")
    page = story + "\n" + story + "\n" + NOTICES["en"]
    assert clean_record({"title": "Meta fined", "text": page}).cleaning.not_article is None


FRONT_PAGES = {
    "pl": """Wiadomości
Kraj
Świat
Sport
10:45 Sejm przyjął ustawę o podatku cyfrowym
Czytaj dalej
10:12 Burza nad Pomorzem. Tysiące domów bez prądu
Czytaj dalej
09:58 Kolejarze zapowiadają strajk w przyszłym tygodniu
Czytaj dalej
09:30 Nowy trener reprezentacji przedstawił kadrę na mecz z Walią
Więcej
08:47 Ceny mieszkań w Krakowie znów w górę
Więcej
Pogoda
Deszczowy weekend w całym kraju
Więcej""",
    "de": """Startseite
Politik
Wirtschaft
Sport
Bundestag beschließt neues Klimaschutzgesetz
vor 2 Stunden
Weiterlesen
Bahnstreik: Was Pendler jetzt wissen müssen
vor 3 Stunden
Weiterlesen
Hochwasser an der Mosel – Pegel steigt weiter
vor 4 Stunden
Weiterlesen
FC Köln verpflichtet neuen Torwart
Mehr
Mieten in München so hoch wie nie
Mehr""",
    "en": """Home
World
Business
Sport
Markets rally as inflation cools
2 hours ago
Read more
Storm batters coast, thousands without power
3 hours ago
Read more
Election 2024: the candidates' final push
5 hours ago
Read more
Local council approves new cycle lanes
Read more
Opinion
Why the high street is not dead yet
Read more""",
    "fr": """Accueil
International
Économie
Réforme des retraites : le Sénat adopte le texte
Il y a 2 heures
Lire la suite
Inondations dans le Gard : trois communes en alerte rouge
Il y a 3 heures
Lire la suite
Ligue 1 : le PSG s'impose à Marseille
Lire la suite
Le prix de l'essence repasse sous les deux euros
Lire la suite
Culture
Cannes dévoile la sélection officielle
Lire la suite""",
    "tr": """Gündem
Ekonomi
Spor
Meclis yeni vergi düzenlemesini kabul etti
2 saat önce
Devamını oku
İstanbul'da sağanak yağış hayatı felç etti
3 saat önce
Devamını oku
Merkez Bankası faiz kararını açıkladı
Devamını oku
Galatasaray deplasmanda üç puanı aldı
Devamını oku
Akaryakıta yeni zam geldi
Devamını oku""",
    "zh": """首页
国内
国际
财经
国务院常务会议部署稳经济一揽子措施
2小时前
阅读全文
南方多地迎来强降雨 防汛进入关键期
3小时前
阅读全文
央行宣布下调存款准备金率
阅读全文
中国女排三比零战胜日本队
更多
新能源汽车销量再创新高
更多""",
    "es": """Portada
Nacional
Internacional
El Congreso aprueba la reforma laboral por un voto
Hace 2 horas
Leer más
Ola de calor: Sevilla roza los 45 grados
Hace 3 horas
Leer más
El Real Madrid golea al Getafe en el Bernabéu
Leer más
Suben los precios del alquiler en Barcelona
Leer más
Muere a los 90 años el escritor Juan Pérez
Leer más""",
    "ru": """Главная
Политика
Экономика
Госдума приняла закон о цифровом рубле
2 часа назад
Подробнее
Сильный снегопад парализовал движение в Москве
3 часа назад
Подробнее
Центробанк сохранил ключевую ставку
Подробнее
«Зенит» обыграл «Спартак» в дерби
Подробнее
Цены на бензин выросли за неделю
Подробнее""",
}


@pytest.mark.parametrize("lang", sorted(FRONT_PAGES))
def test_a_front_page_is_flagged_in_each_language(lang):
    article = clean_record({"title": "Example Daily – news from the region", "text": FRONT_PAGES[lang]})
    assert article.cleaning.not_article == FRONT
    assert clean_record({"text": FRONT_PAGES[lang]}).cleaning.not_article == FRONT


def test_a_front_page_run_together_on_one_line_is_flagged():
    """Some scrapes are one line per page: the teasers then show as cut-short ledes, each with its link."""
    flat = ("Wiadomości z regionu 2021-03-04, godz. 10:45 Radni przyjęli budżet miasta na przyszły rok. "
            "Najwięcej pieniędzy trafi na remonty dróg i nowe... » więcej 2021-03-04, godz. 10:12 "
            "Policja szuka sprawców kradzieży w centrum handlowym. Sprawcy wynieśli sprzęt... » więcej "
            "2021-03-03, godz. 18:20 W sobotę w filharmonii wystąpi orkiestra z Wiednia. Bilety można "
            "kupić... » więcej 2021-03-03, godz. 16:05 Kierowcy muszą się liczyć z utrudnieniami na "
            "obwodnicy. Remont potrwa... » więcej")
    assert clean_record({"text": flat}).cleaning.not_article == FRONT
    assert front_page(flat)


LONG_STORY = """The river burst its banks on Tuesday night, flooding the old town and forcing hundreds of residents from their homes.
Rescue teams evacuated 300 people before dawn, the mayor said, and no one was hurt. Water reached the first floor of houses near the market square.
“We have never seen the water rise this fast,” said one shop owner, who had lived in the town for forty years. The fire brigade pumped out cellars all morning.
The regional government declared a state of emergency and promised help for families whose homes were damaged. Schools will stay closed until Friday.
Forecasters expect more rain at the weekend, and the level of the river is not expected to fall before Monday, the water authority said."""


@pytest.mark.parametrize("related", [
    "Related stories\nStorm batters coast, thousands without power\nRead more\n"
    "Council approves new flood barriers\nRead more\nHow to protect your home from floods\nRead more\n"
    "Insurers brace for record claims\nRead more\nTown marks 50 years since the great flood\nRead more",
    "Zobacz także\nPowódź w Kłodzku: woda opada\nWięcej\nRząd obiecuje pomoc dla powodzian\nWięcej\n"
    "Jak zabezpieczyć dom przed powodzią\nWięcej\nUbezpieczyciele liczą straty\nWięcej\n"
    "Meteorolodzy ostrzegają przed burzami\nWięcej",
])
def test_a_long_article_with_a_related_stories_list_stays_an_article(related):
    article = clean_record({"title": "Floods in the old town", "text": LONG_STORY + "\n" + related})
    assert article.cleaning.not_article is None


@pytest.mark.parametrize("blog", [
    "14:05\nThe Met Office has issued an amber warning for wind across the south west, with gusts of up to 80 mph expected on the coast.\n"
    "13:40\nSeveral roads into the town are closed, police said. Drivers are asked to avoid the area.\n"
    "13:12\nPower cut.\n"
    "12:58\nThe ferry company has cancelled all crossings this afternoon. Passengers with tickets can travel tomorrow.\n"
    "12:30\nTrees down.\n"
    "12:02\nThe council has opened two rest centres for people who have had to leave their homes.\n"
    "11:45\nSchools in the area closed early.\n",
    "10:32 Uhr\nDer Deutsche Wetterdienst warnt vor orkanartigen Böen an der Nordseeküste.\n"
    "10:15 Uhr\nDie Deutsche Bahn stellt den Fernverkehr in Norddeutschland ein. Reisende sollen ihre Fahrt verschieben.\n"
    "09:50 Uhr\nIn Hamburg ist der Fischmarkt überflutet.\n"
    "09:20 Uhr\nDie Feuerwehr meldet mehr als 200 Einsätze seit Mitternacht.\n"
    "08:55 Uhr\nErste Schulen bleiben geschlossen.\n"
    "08:30 Uhr\nDer Sturm erreicht die Küste früher als erwartet.\n",
    # a terse ticker: a time, then a line that reads like a headline; no "more" link
    "14:05 Sturm erreicht Küste\n13:40 Straßen um Kiel gesperrt\n13:12 Stromausfall in mehreren Stadtteilen\n"
    "12:58 Fähren stellen Betrieb ein\n12:30 Bäume auf Bahngleisen\n12:02 Notunterkünfte geöffnet\n"
    "11:45 Schulen schließen früher\n11:30 Sturmflut erwartet\n11:00 Warnung vor Orkanböen",
])
def test_a_live_blog_with_timestamps_stays_an_article(blog):
    assert clean_record({"title": "Live: storm updates", "text": blog}).cleaning.not_article is None
    assert not front_page(blog)


@pytest.mark.parametrize("unit", [
    "We think you should know how we process your personal data under the GDPR. ",   # every sentence read
    "Sejm przyjął ustawę o podatku\nWięcej\n",
    "lede cut short... » więcej ",
])
def test_the_page_checks_take_time_linear_in_the_page(unit):
    import time

    from samestory.ingest.pages import page_reason

    def seconds(n: int) -> float:
        text = unit * (n // len(unit))
        start = time.perf_counter()
        page_reason("Headline", text)
        return time.perf_counter() - start

    seconds(10_000)     # warm up
    assert seconds(160_000) < 40 * max(seconds(20_000), 1e-4)     # 8 times the text: not 64 times the time


def test_a_pair_with_a_data_protection_notice_side_gets_confidence_zero():
    from samestory import compare

    notice = {"title": "Noworoczny pokaz fajerwerków w Dubaju", "text": NOTICES["pl"]}
    # two identical notices would otherwise read as a perfect copy
    result = compare(notice, notice)
    assert not result.same_story and result.confidence == 0.0
    assert any(f"not an article ({DP})" in flag for flag in result.evidence.flags)
    against_news = compare(notice, {"title": "Floods in the old town", "text": LONG_STORY})
    assert against_news.confidence == 0.0
    same = compare(LONG_STORY, LONG_STORY)                  # the same text that *is* an article
    assert same.same_story and same.confidence > 0.5
