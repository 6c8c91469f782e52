"""Demo data: two partner organizations, their users, a studio contact, and requests
in every status with real small media files. Safe to run again: existing demo
objects are kept and passwords reset."""

import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission, User
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from deliveries.management import samples
from deliveries.models import (
    AssetType,
    DeliveryRequest,
    DeliverySpec,
    Membership,
    Organization,
    RedeliveryReason,
    Role,
    Title,
)
from deliveries.people.models import Comment
from deliveries.previews.tasks import make_previews
from deliveries.processing import runner

DEFAULT_PASSWORD = "demo-delivery-2026"
PARTNER_USERS = [
    ("partner-admin", "Lumen Post", Role.ADMIN),
    ("partner-uploader", "Lumen Post", Role.UPLOADER),
    ("partner-reviewer", "Lumen Post", Role.REVIEWER),
    ("other-admin", "Harbor Subtitles", Role.ADMIN),
]
STAFF_USER = "studio-contact"
# The demo's clip is H.264 320×180 at 24 fps, its WAVs 16-bit: requests whose files
# should pass override their UHD / 24-bit templates to match.
CLIP = {"width": 320, "height": 180, "frame_rate": "24/1", "video_codecs": "h264"}
SIXTEEN_BIT = {"bit_depth": 16}
STEREO = {"channel_layout": "2.0", "bit_depth": 16}


class Command(BaseCommand):
    help = "Create demo organizations, users and requests (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password",
            default=DEFAULT_PASSWORD,
            help=f"Password for every demo user (default: {DEFAULT_PASSWORD}).",
        )

    def handle(self, *args: Any, password: str, **options: Any) -> None:
        with transaction.atomic():
            users = self._users(password)
            created = self._requests(users)
            # Processing enqueues the previews of what it processed; the demo's other
            # requests (Open, waiting for their submit) get theirs too, to be seen.
            for request_id in DeliveryRequest.objects.values_list("pk", flat=True):
                make_previews.enqueue(request_id=request_id)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({created} new requests)."))
        # The address is make run's to say (its HOST), not this command's.
        self.stdout.write("Sign in with any of these users:")
        for username, org, role in PARTNER_USERS:
            self.stdout.write(f"  {username:<18} {role.label} at {org}")
        self.stdout.write(f"  {STAFF_USER:<18} studio contact (also /admin/)")
        self.stdout.write(f"Password for all: {password}")
        self.stdout.write(
            f"Each user has an email address (<username>@<partner>.example; {STAFF_USER}: "
            "sam.okafor@studio.example)."
        )

    def _users(self, password: str) -> dict[str, User]:
        users: dict[str, User] = {}
        for username, org_name, role in PARTNER_USERS:
            org, _ = Organization.objects.get_or_create(name=org_name)
            user, _ = get_user_model().objects.get_or_create(username=username)
            user.email = f"{username}@{org_name.lower().replace(' ', '-')}.example"
            user.set_password(password)
            user.save()
            Membership.objects.update_or_create(
                user=user, organization=org, defaults={"role": role}
            )
            users[username] = user
        staff, _ = get_user_model().objects.get_or_create(username=STAFF_USER)
        staff.is_staff = True
        staff.first_name, staff.last_name = "Sam", "Okafor"
        staff.email = "sam.okafor@studio.example"
        staff.set_password(password)
        staff.save()
        # Every request names its studio contact: new ones take their partner's default.
        Organization.objects.filter(name__in=[org for _, org, _ in PARTNER_USERS]).update(
            default_studio_contact=staff
        )
        group, _ = Group.objects.get_or_create(name="Studio contacts")
        group.permissions.set(
            Permission.objects.filter(content_type__app_label__in=["deliveries", "auth"]).exclude(
                codename__in=["delete_historyentry", "change_historyentry"]
            )
        )
        staff.groups.add(group)
        users[STAFF_USER] = staff
        return users

    def _requests(self, users: dict[str, User]) -> int:
        lumen = Organization.objects.get(name="Lumen Post")
        harbor = Organization.objects.get(name="Harbor Subtitles")
        tide, _ = Title.objects.get_or_create(name="The Long Tide")
        lights1, _ = Title.objects.get_or_create(name="Northern Lights", season=1, episode=1)
        lights2, _ = Title.objects.get_or_create(name="Northern Lights", season=1, episode=2)
        moons, _ = Title.objects.get_or_create(name="Paper Moons")
        admin, staff = users["partner-admin"], users[STAFF_USER]
        today = timezone.localdate()
        video = samples.h264_aac_mp4()
        stereo = samples.wav_audio(channels=2)
        surround = samples.wav_audio(channels=6)

        def due(days: int) -> datetime.date:
            return today + datetime.timedelta(days=days)

        specs = [
            # (organization, title, name, asset type, language, due, files, final status,
            # spec overrides: None takes the asset type's default spec as it is)
            (
                lumen,
                tide,
                "Primary Video",
                AssetType.PRIMARY_VIDEO,
                "en",
                due(7),
                {"LongTide_Feature_UHD.mp4": video, "LongTide_Feature_Reel2.mp4": video},
                "open",
                CLIP,
            ),
            (
                lumen,
                tide,
                "Audio 5.1 Spanish",
                AssetType.AUDIO,
                "es-419",
                due(10),
                {},
                "open",
                SIXTEEN_BIT,
            ),
            (
                lumen,
                lights1,
                "Primary Video",
                AssetType.PRIMARY_VIDEO,
                "en",
                due(3),
                # Damaged at 00:00:02:00: once processed, its finding sits on the
                # player's timeline.
                {
                    "NL_S01E01_Main.mp4": samples.damaged_at(
                        samples.h264_aac_mp4(
                            seconds=4, width=640, height=360, keyframe_interval=12
                        ),
                        48,
                    )
                },
                "submitted",
                CLIP,
            ),
            (
                lumen,
                lights1,
                "Audio 5.1 English",
                AssetType.AUDIO,
                "en",
                due(5),
                {"NL_S01E01_51.wav": surround, "NL_S01E01_Stereo.wav": stereo},
                "processed",
                SIXTEEN_BIT,
            ),
            (
                lumen,
                lights2,
                "Primary Video",
                AssetType.PRIMARY_VIDEO,
                "en",
                due(-2),
                {"NL_S01E02_Main.mp4": video},
                "accepted",
                CLIP,
            ),
            (
                lumen,
                lights2,
                "Audio Stereo English",
                AssetType.AUDIO,
                "en",
                due(4),
                {"NL_S01E02_Stereo.wav": stereo},
                "redelivery",
                STEREO,
            ),
            (
                lumen,
                moons,
                "Key Art",
                AssetType.ARTWORK,
                "",
                due(12),
                {"PaperMoons_KeyArt.png": samples.png_image(1280, 720)},
                "open",
                None,
            ),
            (
                lumen,
                moons,
                "Picture Master Frames",
                AssetType.IMAGE_SEQUENCE,
                "",
                due(14),
                None,
                "open",
                {"width": 64, "height": 36, "bit_depth": 8},
            ),
            (
                lumen,
                moons,
                "Trailer UHD",
                AssetType.PRIMARY_VIDEO,
                "en",
                due(6),
                {"PaperMoons_Trailer_UHD.mp4": video},
                "processed",
                None,
            ),
            (
                # Subtitles in the wrong language: a blocker a partner can read at once.
                lumen,
                lights1,
                "Subtitles Spanish",
                AssetType.TIMED_TEXT,
                "es-419",
                due(8),
                {"NL_S01E01_es-419.ttml": samples.ttml("en-US", profile=samples.IMSC1_1_TEXT)},
                "processed",
                None,
            ),
            (
                harbor,
                tide,
                "Subtitles Spanish",
                AssetType.TIMED_TEXT,
                "es-419",
                due(9),
                {"LongTide_es-419.ttml": samples.ttml("es-419", profile=samples.IMSC1_1_TEXT)},
                "open",
                None,
            ),
        ]
        created = 0
        for org, title, name, asset_type, language, due_date, files, final, overrides in specs:
            request, is_new = DeliveryRequest.objects.get_or_create(
                organization=org,
                title=title,
                name=name,
                defaults={
                    "asset_type": asset_type,
                    "language": language,
                    "due_date": due_date,
                    "spec": DeliverySpec.default_for(asset_type),
                    "spec_overrides": overrides or {},
                },
            )
            if not is_new:
                continue
            created += 1
            actor = admin if org == lumen else users["other-admin"]
            if files is None:
                files = _image_sequence()
            for file_name, data in files.items():
                request.add_file(file_name, ContentFile(data), by=actor)
            self._advance(request, final, actor, staff)
        DeliveryRequest.objects.filter(studio_contact__isnull=True).update(studio_contact=staff)
        return created

    def _advance(self, request: DeliveryRequest, final: str, actor: User, staff: User) -> None:
        if final == "open":
            return
        request.act(request.submit, by=actor)
        if final == "submitted":
            return
        # Demo requests past Submitted were processed (for real) before the demo began.
        # Nothing to come back for: it runs here, to the end.
        runner.process_request(request.pk, come_back_later=lambda **_: None)
        request = DeliveryRequest.objects.get(pk=request.pk)
        if final == "accepted":
            request.act(request.accept, by=staff)
        elif final == "redelivery":
            reasons = RedeliveryReason.objects.filter(
                code__in=["audio-dialogue-out-of-sync", "incorrect-channel-mapping"]
            )
            request.act(
                request.ask_for_redelivery,
                by=staff,
                reasons=reasons,
                clear_files=False,
                note="Dialogue drifts about two frames late from 00:12:10 on reel 2, and the "
                "centre channel is on the left. Notes: https://example.com/qc/reel-2",
            )
            Comment.post(
                request,
                actor,
                "Thanks, Sam. We are re-conforming reel 2 and will redeliver by Friday.",
            )


def _image_sequence(frames: int = 24) -> dict[str, bytes]:
    # Every frame at the spec's 64×36: submitted, the sequence passes (a frame of another
    # size would fail SEQUENCE-Resolution and read as a broken demo).
    frame = samples.png_image(64, 36)
    files = {f"PaperMoons_Frame_{n:07d}.png": frame for n in range(frames)}
    files["checksum.txt"] = samples.checksum_txt(files)
    return files
