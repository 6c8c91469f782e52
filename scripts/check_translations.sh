#!/usr/bin/env bash
# Checks the translation catalogs (locale/<lang>/LC_MESSAGES/django.po), then compiles them.
#
# Usage:
#   scripts/check_translations.sh            check, then compile the .mo files
#   scripts/check_translations.sh --update   regenerate the .po files from the sources
#                                            (makemessages), then check and compile
#
# The check fails (exit 1, saying what to run) when:
#   - makemessages would change a catalog's set of msgids (a string was added, changed or
#     removed in the code or templates and the catalog was not regenerated), or
#   - an entry is untranslated or fuzzy, or msgfmt --check finds an error (for example a
#     placeholder missing from a translation).
# The POT-Creation-Date header and line numbers (catalogs carry none) do not count.
#
# Needs GNU gettext (xgettext, msgmerge, msgattrib, msgfmt) and the project's virtualenv
# at .venv (or PYTHON=/path/to/python).
#
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
export DJANGO_DEBUG="${DJANGO_DEBUG:-1}"
DEFAULT_LOCALES=(es_419)
UPDATE_HINT="scripts/check_translations.sh --update"

case "${1:-}" in
  "") update=0 ;;
  --update) update=1 ;;
  -h | --help)
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "Unknown option: $1 (use --update or --help)" >&2
    exit 2
    ;;
esac

for tool in xgettext msgmerge msgattrib msgfmt; do
  if ! command -v "$tool" >/dev/null; then
    echo "GNU gettext is needed ($tool not found): apt-get install gettext" >&2
    exit 2
  fi
done
if [ ! -x "$PYTHON" ]; then
  echo "No Python at $PYTHON: run 'make setup' first (or set PYTHON=...)." >&2
  exit 2
fi

locales=()
for po in locale/*/LC_MESSAGES/django.po; do
  [ -e "$po" ] && locales+=("$(basename "$(dirname "$(dirname "$po")")")")
done
[ ${#locales[@]} -gt 0 ] || locales=("${DEFAULT_LOCALES[@]}")

# makemessages with the project's flags.
makemessages() {
  "$PYTHON" - "$@" <<'PY'
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
import django

django.setup()
from django.core.management import call_command

call_command(
    "makemessages",
    locale=sys.argv[1:],
    domain="django",
    no_location=True,
    no_obsolete=True,
    ignore_patterns=[".venv", "tests", "bench", "staticfiles", "var", "node_modules"],
    verbosity=0,
)
PY
}

# The msgids of a catalog, one key per line (context, msgid, plural), header excluded.
msgids() {
  "$PYTHON" - "$1" <<'PY'
import sys

keys, entry, field = set(), {}, None


def flush():
    if entry.get("msgid"):
        keys.add(repr((entry.get("msgctxt"), entry["msgid"], entry.get("msgid_plural"))))


with open(sys.argv[1], encoding="utf-8") as po:
    for raw in po:
        line = raw.strip()
        if not line or line.startswith("#"):  # comments, flags and obsolete (#~) entries
            continue
        if line.startswith('"'):
            if field:
                entry[field] += line[1:-1]
            continue
        keyword, _, rest = line.partition(" ")
        if keyword in ("msgctxt", "msgid") and (field or "").startswith("msgstr"):
            flush()
            entry = {}
        field = keyword
        entry[field] = rest[1:-1]
flush()
print("\n".join(sorted(keys)))
PY
}

status=0
tmp="$(mktemp -d)"
restore() {
  for locale in "${locales[@]}"; do
    if [ -e "$tmp/$locale.po" ]; then
      cp "$tmp/$locale.po" "locale/$locale/LC_MESSAGES/django.po"
    else
      rm -f "locale/$locale/LC_MESSAGES/django.po"
    fi
  done
  rm -rf "$tmp"
}

if [ "$update" = 1 ]; then
  rm -rf "$tmp"
  makemessages "${locales[@]}"
  echo "Catalogs regenerated: translate every new or emptied entry, then run this script again."
else
  # Regenerate into the working tree, keep the result aside, put the catalogs back.
  for locale in "${locales[@]}"; do
    po="locale/$locale/LC_MESSAGES/django.po"
    [ -e "$po" ] && cp "$po" "$tmp/$locale.po"
  done
  trap restore EXIT
  makemessages "${locales[@]}"
  for locale in "${locales[@]}"; do
    po="locale/$locale/LC_MESSAGES/django.po"
    cp "$po" "$tmp/$locale.regenerated.po"
    if [ ! -e "$tmp/$locale.po" ]; then
      echo "FAIL: $po does not exist. Run: $UPDATE_HINT" >&2
      status=1
      continue
    fi
    msgids "$tmp/$locale.po" >"$tmp/$locale.ids"
    msgids "$tmp/$locale.regenerated.po" >"$tmp/$locale.new-ids"
    if ! cmp -s "$tmp/$locale.ids" "$tmp/$locale.new-ids"; then
      echo "FAIL: $po is out of date with the code and templates." >&2
      comm -13 "$tmp/$locale.ids" "$tmp/$locale.new-ids" | sed 's/^/  new:  /' >&2
      comm -23 "$tmp/$locale.ids" "$tmp/$locale.new-ids" | sed 's/^/  gone: /' >&2
      echo "  Run: $UPDATE_HINT, translate the new entries, then run this script again." >&2
      status=1
    fi
  done
  restore
  trap - EXIT
fi

for locale in "${locales[@]}"; do
  po="locale/$locale/LC_MESSAGES/django.po"
  [ -e "$po" ] || continue
  if ! stats="$(msgfmt --check --statistics -o /dev/null "$po" 2>&1)"; then
    echo "FAIL: msgfmt --check found errors in $po:" >&2
    echo "$stats" >&2
    status=1
    continue
  fi
  echo "$po: ${stats##*$'\n'}"
  if printf '%s\n' "$stats" | grep -Eq 'untranslated|fuzzy'; then
    echo "FAIL: $po has untranslated or fuzzy entries:" >&2
    {
      msgattrib --untranslated --no-obsolete --no-wrap "$po"
      msgattrib --only-fuzzy --no-obsolete --no-wrap "$po"
    } | grep -E '^msgid ".+"' | sed 's/^/  /' >&2
    echo "  Translate them in $po (and delete the '#, fuzzy' lines), then run this script again." >&2
    status=1
  fi
done

if [ "$status" != 0 ]; then
  exit "$status"
fi

"$PYTHON" manage.py compilemessages --ignore=.venv --ignore=node_modules --verbosity=0
echo "Translations complete; compiled: $(printf 'locale/%s/LC_MESSAGES/django.mo ' "${locales[@]}")"
