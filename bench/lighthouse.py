"""Lighthouse's accessibility and best-practices scores of the request list and the
Details Page, mobile and desktop, on the portal under gunicorn as production runs it.

    .venv/bin/python bench/lighthouse.py [--lighthouse-dir /tmp/portal-lighthouse]

Installs npm's `lighthouse` into a scratch folder (never into the app) unless it is
there already, and drives Debian's Chromium (/usr/bin/chromium). The pages are a
signed-in partner's: Lighthouse carries the session and CSRF cookies as headers
(production cookies are Secure, and this is plain HTTP on loopback).
Target: 100 in both categories on both pages, mobile and desktop.
Runs in a scratch database (see bench/_scratch.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
from pathlib import Path

import _scratch

CATEGORIES = ("accessibility", "best-practices")


def lighthouse(folder: Path) -> Path:
    binary = folder / "node_modules" / ".bin" / "lighthouse"
    if not binary.exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--silent", "--no-audit", "--no-fund", "lighthouse@12"],
            cwd=folder,
            check=True,
        )
    return binary


def run(binary: Path, url: str, cookie: str, desktop: bool) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        command = [
            str(binary),
            url,
            "--quiet",
            "--output=json",
            f"--output-path={report}",
            f"--only-categories={','.join(CATEGORIES)}",
            "--chrome-path=/usr/bin/chromium",
            "--chrome-flags=--headless=new --no-sandbox",
            f"--extra-headers={json.dumps({'Cookie': cookie})}",
        ]
        if desktop:
            command.append("--preset=desktop")
        subprocess.run(command, check=True, env={**os.environ, "CHROME_PATH": "/usr/bin/chromium"})
        return json.loads(report.read_text())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lighthouse-dir", default="/tmp/portal-lighthouse")
    options = parser.parse_args()
    label = _scratch.setup()

    import datetime

    from django.conf import settings
    from django.core.files.base import ContentFile
    from django.test import Client

    from deliveries.models import DeliveryRequest, Title

    binary = lighthouse(Path(options.lighthouse_dir))
    user = _scratch.partner_admin()
    organization = user.memberships.get().organization
    title = Title.objects.create(name="The Long Tide")
    request = DeliveryRequest.objects.create(
        organization=organization,
        title=title,
        name="Primary Video",
        asset_type="primary_video",
        due_date=datetime.date.today() + datetime.timedelta(days=3),
    )
    for n in range(12):
        request.add_file(f"LongTide_Reel{n:02d}_Final.mov", ContentFile(b"x" * (n + 1)), by=None)
    client = Client()
    client.force_login(user)
    client.get("/requests/")
    cookie = "; ".join(
        f"{name}={client.cookies[name].value}"
        for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME)
    )
    rows: list[list[str]] = []
    failing: list[str] = []
    with _scratch.gunicorn(workers=1) as port:
        for page, path in (
            ("request list", "/requests/"),
            ("Details Page", f"/requests/{request.pk}/"),
        ):
            for form in ("mobile", "desktop"):
                report = run(binary, f"http://127.0.0.1:{port}{path}", cookie, form == "desktop")
                # Audited signed in: not redirected to the sign-in page.
                final = report.get("finalDisplayedUrl") or report.get("finalUrl", "")
                assert final.endswith(path), f"{page}: Lighthouse saw {final}"
                scores = [report["categories"][c]["score"] for c in CATEGORIES]
                rows.append([page, form, *(f"{round((s or 0) * 100)}" for s in scores)])
                for audit in report["audits"].values():
                    if (
                        audit.get("score") is not None
                        and audit["score"] < 1
                        and (audit.get("scoreDisplayMode") in ("binary", "numeric"))
                    ):
                        failing.append(f"{page}, {form}: {audit['id']}: {audit['title']}")
    _scratch.table(
        f"Lighthouse on {label} (target 100 each)",
        ["page", "form", *CATEGORIES],
        rows,
    )
    for line in sorted(set(failing)):
        print("  failing:", line)


if __name__ == "__main__":
    main()
