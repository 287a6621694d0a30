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


def fill_english() -> None:
    po = APP / "locale" / "en" / "LC_MESSAGES" / "django.po"
    out, lines = [], po.read_text().splitlines()
    msgid = plural = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("msgid "):
            j, msgid = i, _unquote(line[6:])
            while j + 1 < len(lines) and lines[j + 1].startswith('"'):
                j += 1
                msgid += _unquote(lines[j])
            plural = None
        if line.startswith("msgid_plural "):
            j, plural = i, _unquote(line[13:])
            while j + 1 < len(lines) and lines[j + 1].startswith('"'):
                j += 1
                plural += _unquote(lines[j])
        if (
            line == 'msgstr ""'
            and msgid
            and not (i + 1 < len(lines) and lines[i + 1].startswith('"'))
        ):
            out.append("msgstr " + quote(msgid))
            i += 1
            continue
        m = re.match(r'msgstr\[(\d)\] ""$', line)
        if m and msgid and not (i + 1 < len(lines) and lines[i + 1].startswith('"')):
            out.append(
                f"msgstr[{m.group(1)}] " + quote(msgid if m.group(1) == "0" else plural or msgid)
            )
            i += 1
            continue
        out.append(line)
        i += 1
    po.write_text("\n".join(out) + "\n")


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
