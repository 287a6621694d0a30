from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class LanguageMiddleware(LocaleMiddleware):
    """The language is the one chosen with the switcher (a cookie), otherwise Chinese.

    The browser's Accept-Language is deliberately ignored: county offices often run browsers set
    to English, and the site must still open in Chinese until someone chooses otherwise. The API
    (``/api/``) honours Accept-Language, the way a program asks for its language.
    """

    def process_request(self, request):
        supported = {code for code, _name in settings.LANGUAGES}
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in supported and request.path.startswith("/api/"):
            # A program calling the API says which language its messages should be in.
            language = translation.get_language_from_request(request)
        if language not in supported:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
