"""Delivering, renaming and removing a request's files: the rules of PRODUCT.md's
"Files on the Details Page" and "Requests with a checksum", as methods of
DeliveryRequest (this mixin), each in one transaction with the request row locked."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from ..files import manifests, naming
from ..files.models import DeliveredFile, ManifestEntry, storage_key
from ..files.storage import delete_stored
from . import counters, removal
from .errors import ActionRefused, NameTaken
from .history import HistoryEntry
from .states import Status

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from .models import DeliveryRequest

FILE_CHANGES_ALLOWED = (Status.OPEN, Status.REDELIVERY)


class FileChanges:
    # Declared on DeliveryRequest; named here for the type checker. The type checker
    # can't tell that `self` is a DeliveryRequest: the `ignore[arg-type]` and
    # `ignore[misc]` below are where this mixin passes itself as one.
    if TYPE_CHECKING:
        pk: int
        status: str
        checksum_manifest_id: int | None
        checksum_manifest: DeliveredFile | None
        file_count: int
        files_to_purge: int
        files_removed_through: int
        files: Any
        uploads: Any

        def accepted_refusal(self, about: str) -> str: ...

        def take_state_of(self, current: DeliveryRequest) -> None: ...

    @property
    def has_checksum(self) -> bool:
        return self.checksum_manifest_id is not None

    @property
    def files_changeable(self) -> bool:
        return self.status in FILE_CHANGES_ALLOWED and not self.has_checksum

    def why_files_locked(self, *, may_ask_for_redelivery: bool = True) -> str:
        """Why files can't be delivered, renamed or removed now ('' when they can).
        `may_ask_for_redelivery`: whether the reader may ask for redelivery themselves
        (an Uploader is pointed at who can)."""
        if self.status == Status.ACCEPTED:
            return self.accepted_refusal("files")
        if self.status == Status.SUBMITTED:
            return _(
                "This request is Submitted and its files are being processed; "
                "they can't be changed until processing ends."
            )
        if self.status == Status.PROCESSED:
            if not may_ask_for_redelivery:
                return _(
                    "This request is Processed, so its files can't be changed. Your "
                    "partner's Admin or your studio contact can ask for redelivery."
                )
            return _(
                "This request is Processed, so its files can't be changed. "
                "Ask for redelivery to deliver again."
            )
        if self.has_checksum and not may_ask_for_redelivery:
            return _(
                "This is a request with a checksum: its manifest pins every file's name and "
                "content, so files can't be renamed or removed one by one, and only files it "
                "lists can still be delivered. To replace them, your partner's Admin can ask "
                "for redelivery with “Clear existing files from this request” once the "
                "request is Processed."
            )
        if self.has_checksum:
            return _(
                "This is a request with a checksum: its manifest pins every file's name and "
                "content, so files can't be renamed or removed one by one, and only files it "
                "lists can still be delivered. To replace them, ask for redelivery with "
                "“Clear existing files from this request” once the request is Processed."
            )
        return ""

    def _lock_for_file_change(self, *, delivering: bool = False) -> None:
        """Inside a transaction: lock the row and refuse unless files may change.

        A manifest pins existing files, not new ones: delivering stays open in a
        request with a checksum, renaming and removing do not.
        """
        current = type(self)._default_manager.select_for_update().get(pk=self.pk)  # type: ignore[attr-defined]
        self.take_state_of(current)
        allowed = self.status in FILE_CHANGES_ALLOWED if delivering else self.files_changeable
        if not allowed:
            raise ActionRefused(self.why_files_locked())

    def rename_file(self, file: DeliveredFile, new_name: str, *, by: User | None) -> None:
        try:
            naming.check_rename(file.name, new_name)
        except ValidationError as error:
            raise ActionRefused(error.messages[0], field="name") from None
        if new_name == file.name:
            return
        if manifests.is_manifest_name(new_name) != manifests.is_manifest_name(file.name):
            # A manifest is what was delivered as one: a rename may neither make a
            # file into a manifest nor a manifest into a plain file.
            raise ActionRefused(
                _(
                    "“%(name)s” is the name of a checksum manifest, and a rename can neither "
                    "create nor remove a manifest. Deliver the manifest as a file of its own."
                )
                % {"name": new_name if manifests.is_manifest_name(new_name) else file.name},
                field="name",
            )
        with transaction.atomic():
            self._lock_for_file_change()
            if self.files.filter(name=new_name).exclude(pk=file.pk).exists():
                raise ActionRefused(naming.duplicate_name_error(new_name).messages[0], field="name")
            if self.uploads.under_way().filter(name=new_name).exists():
                # Taking the name would make that upload fail at its last byte.
                raise ActionRefused(
                    _(
                        "“%(name)s” is being uploaded to this request right now. Choose "
                        "another name, or wait for that upload to finish."
                    )
                    % {"name": new_name},
                    field="name",
                )
            removal.free_name(self, new_name)  # type: ignore[arg-type]
            old_name = file.name
            updated = self.files.filter(pk=file.pk, name=old_name).update(name=new_name)
            if not updated:
                raise ActionRefused(
                    _("This file was changed or removed by someone else. Reload and try again.")
                )
            file.name = new_name
            HistoryEntry.objects.create(
                request=self,  # type: ignore[misc]
                actor=by,
                action=HistoryEntry.Action.RENAMED,
                before=old_name,
                after=new_name,
            )

    def remove_files(self, file_ids: Iterable[int] | None, *, by: User | None) -> int:
        """Remove the given files (None: every file). Returns how many were removed.

        A fixed number of statements whatever the count; stored content is deleted
        by the worker after commit (see deliveries/requests/removal.py).
        """
        with transaction.atomic():
            self._lock_for_file_change()
            ids = None if file_ids is None else list(file_ids)
            files = self.files.all() if ids is None else self.files.filter(pk__in=ids)
            names = list(files.order_by("name").values_list("name", flat=True)[:51])
            if ids is None:
                count = removal.remove_all_files(self)  # type: ignore[arg-type]
            else:
                count = removal.remove_selected_files(self, ids)  # type: ignore[arg-type]
            if count == 0:
                raise ActionRefused(
                    _("Nothing was removed: the selected files are no longer in this request.")
                )
            HistoryEntry.objects.create(
                request=self,  # type: ignore[misc]
                actor=by,
                action=HistoryEntry.Action.REMOVED,
                before=names[0] if count == 1 else "",
                details={"count": count, "names": names[:50], "all": file_ids is None},
            )
            return count

    def add_file(
        self,
        name: str,
        content: Any,
        *,
        by: User | None,
        md5: str = "",
        xxh64: str = "",
        in_transaction: Callable[[DeliveredFile], None] | None = None,
        replacing: bool = False,
    ) -> DeliveredFile:
        """Deliver one file; `content` is a django File. Refused outside Open/Redelivery.
        `replacing`: a file of this name is removed in the same transaction (Replace;
        the caller checked the deliverer may remove files).

        `in_transaction(file)` runs in the transaction that adds the file's row: what
        it writes commits with the delivery or not at all, and if it raises, nothing
        is delivered and the stored bytes are deleted. Call this outside any other
        transaction: one that rolled back after this returned would leave the stored
        bytes behind, and on SQLite it would hold the write lock while they are copied.
        """
        try:
            naming.check_name_shape(name)
        except ValidationError as error:
            raise ActionRefused(error.messages[0], field="name") from None
        # A manifest is read before the request's lock is taken (250,000 entries take
        # seconds), and the bytes stored (a large copy to object storage, say): neither
        # may hold up everyone else's actions on this request. Too large is refused now,
        # unread; unreadable, after the checks under the lock, whose refusals come first.
        # A request with a checksum refuses a second manifest: no need to read it.
        is_manifest = manifests.is_manifest_name(name)
        entries: list[manifests.Entry] | None = None
        unreadable: manifests.ManifestError | None = None
        if is_manifest and not self.has_checksum:
            try:
                manifests.check_size(content.size)
            except manifests.ManifestError as error:
                raise ActionRefused(str(error), field="name") from None
            try:
                entries = manifests.read_entries(name, content)
            except manifests.ManifestError as error:
                unreadable = error
        delivered = DeliveredFile(
            request=self,  # type: ignore[misc]
            name=name,
            size=content.size,
            delivered_by=by if by is not None and by.is_authenticated else None,
            md5=md5,
            xxh64=xxh64,
        )
        delivered.content.save(storage_key(self.pk, name), content, save=False)
        stored_path = delivered.content.name
        try:
            with transaction.atomic():
                self._lock_for_file_change(delivering=True)
                replaced = list(self.files.filter(name=name).values_list("pk", flat=True))
                if replaced and not replacing:
                    raise NameTaken(naming.duplicate_name_error(name).messages[0], field="name")
                refusal = self.why_name_not_deliverable(name)
                if refusal:
                    raise ActionRefused(refusal, field="name")
                if unreadable is not None:
                    raise ActionRefused(str(unreadable), field="name")
                if is_manifest and entries is None:
                    # It had a manifest when we looked, and lost it since.
                    raise ActionRefused(self.changed_meanwhile())  # type: ignore[attr-defined]
                if replaced:
                    removal.remove_selected_files(self, replaced)  # type: ignore[arg-type]
                removal.free_name(self, name)  # type: ignore[arg-type]
                delivered.save()
                counters.delivered(self)  # type: ignore[arg-type]
                HistoryEntry.objects.create(
                    request=self,  # type: ignore[misc]
                    actor=by,
                    action=HistoryEntry.Action.DELIVERED,
                    after=name,
                    details={"size": delivered.size, **({"replaced": True} if replaced else {})},
                )
                if is_manifest and entries is not None:
                    self._attach_manifest(delivered, entries)
                if in_transaction is not None:
                    in_transaction(delivered)
        except BaseException:
            # Refused or failed: the rows rolled back, so the stored bytes go too, and
            # the file's own folder with them.
            delete_stored(default_storage, stored_path)
            raise
        return delivered

    def why_name_not_deliverable(self, name: str) -> str:
        """In a request with a checksum, the manifest decides which files may still
        arrive (those it lists: a batch's files may land after its manifest); '' when
        `name` may be delivered."""
        if self.checksum_manifest_id is None:
            return ""
        manifest = self.checksum_manifest.name if self.checksum_manifest else ""
        if manifests.is_manifest_name(name):
            # A second manifest would silently unpin what the first pins.
            return _(
                "This request already has its checksum manifest, “%(manifest)s”, and a "
                "request has only one. To replace it, ask for a redelivery that clears "
                "all files once the request is Processed."
            ) % {"manifest": manifest}
        listed = ManifestEntry.objects.filter(manifest_id=self.checksum_manifest_id, file_name=name)
        if not listed.exists():
            return _(
                "%(manifest)s does not list “%(name)s”, and a request with a checksum "
                "takes only the files its manifest lists. Check the file's name against "
                "the manifest."
            ) % {"manifest": manifest, "name": name}
        return ""

    def _attach_manifest(self, manifest: DeliveredFile, entries: list[manifests.Entry]) -> None:
        """A delivered checksum.txt or MHL makes this a request with a checksum."""
        ManifestEntry.objects.bulk_create(
            [
                ManifestEntry(
                    manifest=manifest, file_name=name, algorithm=algorithm, expected_hash=digest
                )
                for name, algorithm, digest in entries
            ],
            ignore_conflicts=True,
        )
        self.checksum_manifest = manifest
        type(self)._default_manager.filter(pk=self.pk).update(checksum_manifest=manifest)  # type: ignore[attr-defined]
