"""Message catalogues: ``update`` extracts strings and fills English; ``check`` fails on gaps.

``check`` extracts first, so a string added to the code without a translation is caught, then
fails on any entry in zh_Hans or en that is untranslated or fuzzy, naming file, line and msgid.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "shishi"
LOCALES = ["zh_Hans", "en"]
HEADERS = {
    "zh_Hans": "Plural-Forms: nplurals=1; plural=0;\\n",
    "en": "Plural-Forms: nplurals=2; plural=(n != 1);\\n",
}


def extract() -> None:
    shishi = Path(sys.executable).parent / "shishi"
    args = [
        str(shishi),
        "makemessages",
        "--no-location",
        "--no-obsolete",
        "-v0",
        "--ignore=static/vendor/*",
    ]
    for loc in LOCALES:
        args += ["-l", loc]
    env = {**os.environ, "SHISHI_VAR_DIR": os.environ.get("SHISHI_VAR_DIR", "/tmp/shishi-messages")}
    subprocess.run(args, cwd=APP, check=True, env=env)
    for loc in LOCALES:
        po = APP / "locale" / loc / "LC_MESSAGES" / "django.po"
        text = po.read_text()
        text = re.sub(
            r'"Plural-Forms: [^"]*"', lambda _m, loc=loc: f'"{HEADERS[loc]}"', text, count=1
        )
        text = text.replace(
            '"Content-Type: text/plain; charset=CHARSET\\n"',
            '"Content-Type: text/plain; charset=UTF-8\\n"',
        )
        text = text.replace('#, fuzzy\nmsgid ""\nmsgstr ""\n', 'msgid ""\nmsgstr ""\n', 1)
        text = text.replace('"Language: \\n"', f'"Language: {loc}\\n"', 1)
        po.write_text(text)


def entries(po: Path):
    """(line number, flags, msgid, [msgstr...]) per entry, from a .po file (msgctxt ignored)."""
    block: list[tuple[int, str]] = []
    for number, line in enumerate(po.read_text().splitlines() + [""], start=1):
        if line.strip():
            block.append((number, line))
            continue
        if block:
            yield parse(block)
            block = []


def _unquote(s: str) -> str:
    return s[1:-1].encode().decode("unicode_escape").encode("latin-1").decode("utf-8")


def parse(block):
    flags, current, parts = "", None, {}
    for _n, line in block:
        if line.startswith("#,"):
            flags += line
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            parts[current] += _unquote(line)
        else:
            key, _, rest = line.partition(" ")
            current = key
            parts[current] = _unquote(rest)
    msgstrs = [v for k, v in sorted(parts.items()) if k.startswith("msgstr")]
    return block[0][0], flags, parts.get("msgid", ""), parts.get("msgid_plural"), msgstrs


def blocks(po: Path) -> list[list[tuple[int, str]]]:
    out, block = [], []
    for number, line in enumerate(po.read_text().splitlines() + [""], start=1):
        if line.strip():
            block.append((number, line))
        elif block:
            out.append(block)
            block = []
    return out


def fill_english() -> None:
    """Rewrite the English catalogue with every msgstr equal to its msgid (plural: msgid_plural).

    msgmerge marks near matches as fuzzy with a guessed msgstr; English needs no guess, so the
    fuzzy flag goes and the msgid is used.
    """
    po = APP / "locale" / "en" / "LC_MESSAGES" / "django.po"
    out = []
    for block in blocks(po):
        _line, _flags, msgid, plural, _msgstrs = parse(block)
        if not msgid:
            out.append("\n".join(line for _n, line in block))
            continue
        lines = [ln for _n, ln in block if ln.startswith("#") and not ln.startswith(("#,", "#|"))]
        flags = [
            f.strip()
            for _n, ln in block
            if ln.startswith("#,")
            for f in ln[2:].split(",")
            if f.strip() and f.strip() != "fuzzy"
        ]
        if flags:
            lines.append("#, " + ", ".join(flags))
        context = next((_unquote(ln[8:]) for _n, ln in block if ln.startswith("msgctxt ")), None)
        if context is not None:
            lines.append("msgctxt " + quote(context))
        lines.append("msgid " + quote(msgid))
        if plural is not None:
            lines += [
                "msgid_plural " + quote(plural),
                "msgstr[0] " + quote(msgid),
                "msgstr[1] " + quote(plural),
            ]
        else:
            lines.append("msgstr " + quote(msgid))
        out.append("\n".join(lines))
    po.write_text("\n\n".join(out) + "\n")


def quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def check() -> int:
    problems = []
    for loc in LOCALES:
        po = APP / "locale" / loc / "LC_MESSAGES" / "django.po"
        for line, flags, msgid, _plural, msgstrs in entries(po):
            if not msgid:
                continue  # the header
            if "fuzzy" in flags:
                problems.append(f"{po.relative_to(ROOT)}:{line}: fuzzy: {msgid!r}")
            elif not msgstrs or not all(msgstrs):
                problems.append(f"{po.relative_to(ROOT)}:{line}: untranslated: {msgid!r}")
    for p in problems:
        print(p)
    if problems:
        print(
            f"{len(problems)} catalogue entries need translation; run `make messages` and translate them."
        )
        return 1
    print("message catalogues complete: " + ", ".join(LOCALES))
    return 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    extract()
    if command == "update":
        fill_english()
        sys.exit(0)
    sys.exit(check())
