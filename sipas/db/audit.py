"""Every action the product writes to the audit log: its Vietnamese label, and whether a person acts.

The one list of them: :func:`sipas.db.config.log_audit` refuses a name that is not here (and an empty
actor for an action a person takes), and the change log in *Cài đặt* shows these labels. It lives in
``sipas.db`` and imports nothing, so the module that writes the log reads it without importing from
the layers above (``sipas.admin`` imports ``sipas.db``, never the reverse).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AuditAction:
    name: str  # as stored in audit_log.action
    label: str  # as the change log shows it
    by_person: bool = True  # a person acts: the actor is never empty


ACTIONS: dict[str, AuditAction] = {
    a.name: a
    for a in (
        AuditAction("login", "Đăng nhập"),
        AuditAction("user-add", "Thêm tài khoản"),
        AuditAction("user-password", "Đổi mật khẩu"),
        AuditAction("user-enable", "Mở khóa tài khoản"),
        AuditAction("user-disable", "Khóa tài khoản"),
        # Settings are also written by the product itself (the unit's first values, migrations).
        AuditAction("setting", "Sửa cài đặt", by_person=False),
        AuditAction("staff", "Sửa danh sách cán bộ"),
        AuditAction("staff_photo", "Đổi ảnh cán bộ"),
        AuditAction("baseline", "Lưu số liệu gốc", by_person=False),
        AuditAction("exclude", "Loại phiếu"),
        AuditAction("include", "Khôi phục phiếu đã loại"),
        AuditAction("hourly-dossiers", "Nhập số hồ sơ theo giờ", by_person=False),
        AuditAction("delete-demo", "Xóa dữ liệu mẫu"),
        AuditAction("comment-label", "Sửa nhãn góp ý"),
        # backup.restore takes no actor when a script calls it (its page and the CLI always name one).
        AuditAction("restore", "Khôi phục sao lưu", by_person=False),
        AuditAction("key-show", "Xem mã khôi phục khóa ký"),
        AuditAction("key-restore", "Khôi phục khóa ký từ mã"),
        AuditAction("tablet-add", "Thêm máy tính bảng khảo sát"),
        # The tablet itself opens its one-time enrolment link: no person is logged in on it.
        AuditAction("tablet-enrol", "Máy tính bảng nhận khóa thiết bị", by_person=False),
        AuditAction("tablet-revoke", "Thu hồi máy tính bảng khảo sát"),
        AuditAction("qr-cards", "In phiếu mã QR đánh giá trên điện thoại"),
    )
}
# Written by earlier versions only: still labelled in the change log, refused by log_audit.
HISTORICAL = {"user-role": "Đổi vai trò"}
OTHER = "Thay đổi khác"  # an action nobody knows (never one the product writes)


def label(action: str, entity: str | None = None) -> str:
    """The change log's label of a stored entry.

    Versions before the registry stored the restoring of an excluded response as ``restore`` too.

    >>> label("restore", "database"), label("restore", "response:12"), label("user-disable"), label("user-role")
    ('Khôi phục sao lưu', 'Khôi phục phiếu đã loại', 'Khóa tài khoản', 'Đổi vai trò')
    """
    if action == "restore" and (entity or "").startswith("response:"):
        action = "include"
    found = ACTIONS.get(action)
    return found.label if found else HISTORICAL.get(action, OTHER)
