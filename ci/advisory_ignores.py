#!/usr/bin/env python3
"""Reads ci/advisory-ignores.toml, the one list of ignored advisories.

  check              every entry complete, no review_by date passed
  audit-args         the `--ignore ID` arguments for cargo-audit
  deny-config IN OUT DB_PATH DB_URL
                     deny.toml IN written to OUT with the ignores, and the
                     advisory database location, added to [advisories]

The list path is $PSEC_ADVISORY_IGNORES (default: beside this script);
today's date can be set with $PSEC_TODAY (YYYY-MM-DD), for the self-tests.
"""
import datetime
import os
import sys
import tomllib

FIELDS = ("id", "crate", "kind", "reason", "plan", "decided", "review_by")
KINDS = ("vulnerability", "unmaintained", "unsound", "notice")


def load():
    path = os.environ.get(
        "PSEC_ADVISORY_IGNORES",
        os.path.join(os.path.dirname(os.path.abspath(__file__)), "advisory-ignores.toml"),
    )
    with open(path, "rb") as f:
        return path, tomllib.load(f).get("ignore", [])


def today():
    text = os.environ.get("PSEC_TODAY")
    return datetime.date.fromisoformat(text) if text else datetime.date.today()


def as_date(value):
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value))


def check():
    path, entries = load()
    problems = []
    for index, entry in enumerate(entries, 1):
        name = entry.get("id", f"entry {index}")
        for field in FIELDS:
            if not str(entry.get(field, "")).strip():
                problems.append(f"{name}: missing field `{field}`")
        if entry.get("kind") not in KINDS:
            problems.append(f"{name}: kind must be one of {', '.join(KINDS)}")
        try:
            review_by = as_date(entry["review_by"])
        except (KeyError, ValueError):
            problems.append(f"{name}: review_by must be a date (YYYY-MM-DD)")
            continue
        if review_by < today():
            problems.append(
                f"{name}: review date {review_by} has passed; review the advisory, "
                "then drop the entry or renew it with a new reason and date"
            )
        else:
            print(f"ignored: {name} ({entry.get('crate')}, {entry.get('kind')}), review by {review_by}")
    ids = [e.get("id") for e in entries]
    for duplicate in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(f"{duplicate}: listed more than once")
    for problem in problems:
        print(f"{path}: {problem}", file=sys.stderr)
    return 1 if problems else 0


def audit_args():
    _, entries = load()
    print(" ".join(f"--ignore {e['id']}" for e in entries))
    return 0


def deny_config(source, target, db_path, db_url):
    _, entries = load()
    lines = open(source, encoding="utf-8").read().splitlines()
    try:
        at = lines.index("[advisories]") + 1
    except ValueError:
        print(f"{source}: no [advisories] section", file=sys.stderr)
        return 1
    ignore = [f'db-path = "{db_path}"', f'db-urls = ["{db_url}"]', "ignore = ["]
    for e in entries:
        reason = " ".join(e["reason"].split()).replace('"', "'")
        ignore.append(f'    {{ id = "{e["id"]}", reason = "{reason} (review by {e["review_by"]})" }},')
    ignore.append("]")
    with open(target, "w", encoding="utf-8") as out:
        out.write("\n".join(lines[:at] + ignore + lines[at:]) + "\n")
    return 0


if __name__ == "__main__":
    command, args = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if command == "check" and not args:
        sys.exit(check())
    if command == "audit-args" and not args:
        sys.exit(audit_args())
    if command == "deny-config" and len(args) == 4:
        sys.exit(deny_config(*args))
    print(__doc__, file=sys.stderr)
    sys.exit(2)
