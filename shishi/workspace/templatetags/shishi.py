from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def page_url(context, param: str, number) -> str:
    """The current URL's query with ``param`` set to ``number``: pages keep the search and filters."""
    query = context["request"].GET.copy()
    query[param] = number
    return "?" + query.urlencode()
