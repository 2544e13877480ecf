"""``python -m sipas …``: a thin wrapper that turns the domain's errors into messages and exit codes.

Exit codes (data-interchange.md): 0 success with a one-line summary; 1 bad input, problems on
standard error, nothing changed; 2 wrong usage (argparse).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

from sipas import __version__, clock, db
from sipas.cliparser import VietnameseArgumentParser
from sipas.errors import SipasError, ValidationError
from sipas.paths import db_path


def _add_db(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db", metavar="TỆP", help="tệp cơ sở dữ liệu (mặc định: $SIPAS_DB, nếu không có thì data/sipas.db)"
    )


def _iso_date(text: str) -> str:
    from datetime import date

    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f'ngày "{text}" không hợp lệ, cần dạng YYYY-MM-DD') from None


def _label(path: Path) -> str:
    """A file's name as text to store and print. On Linux a name that is not UTF-8 reaches Python with
    lone surrogates (surrogateescape), which can be neither stored nor printed: shown as U+FFFD."""
    return path.name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def cmd_import_responses(args: argparse.Namespace) -> int:
    from sipas.survey.responses import import_responses

    path = Path(args.file)
    if not path.is_file():
        raise ValidationError(f"Không tìm thấy tệp {path}.")
    with closing(db.open_db(db_path(args.db))) as conn:
        # Rows without a questionnaire cell take the form in force on their date.
        summary = import_responses(
            conn,
            path.read_bytes(),
            _label(path),
            actor="cli",
            allow_repeats=args.allow_repeats,
        )
    print(summary.message())
    return 0


def cmd_classify(args: argparse.Namespace) -> int:
    """One comment per line on standard input -> one JSON object per line (data-interchange.md)."""
    from sipas.index import classify

    corrections: dict[str, bool] = {}
    path = Path(db_path(args.db))
    if path.is_file():  # the clerk's corrections, when there is a database to read them from
        with closing(db.open_db(path)) as conn:
            corrections = db.comment_label_corrections(conn)
    model = classify.default_model(corrections)
    stdin = sys.stdin.buffer.read().decode("utf-8", "replace")
    for line in stdin.splitlines():
        c = classify.classify(line, model=model)
        print(json.dumps(c.as_json(), ensure_ascii=False))
    return 0


def cmd_index(args: argparse.Namespace) -> int:
    from sipas.catalog import questionnaire
    from sipas.index.scoring import compute_index

    if args.date_from and args.date_to and args.date_from > args.date_to:
        raise ValidationError(f"--from {args.date_from} sau --to {args.date_to}.")
    from sipas.index import periods

    with closing(db.open_db(db_path(args.db))) as conn:
        # Default: the form in force at the period's end, or the one its surveys used when it holds none
        # of that form (a period is never reported empty while it holds surveys).
        version = args.questionnaire or periods.default_version(conn, args.date_from, args.date_to)
        q = questionnaire(version)  # raises a clear error for an unknown code
        counts = {v: n for v, n in periods.version_counts(conn, args.date_from, args.date_to).items() if n}
        # What sipas.index.scoring.index_for_period does, without importing the analysis modules: it loads
        # pandas and scipy for the analysis page (≈1 s), and this command must stay fast.
        result = compute_index(
            q,
            db.level_counts(conn, version, args.date_from, args.date_to),
            db.responses_in_range(conn, version, args.date_from, args.date_to),
        )
    others = not args.questionnaire and any(v != version for v in counts)  # the form chosen: nothing to add
    if args.json:
        print(json.dumps(result.to_json_dict(args.date_from, args.date_to), ensure_ascii=False))
        if others:  # the JSON object is the contract's; what it leaves out is said beside it, for a person
            print(periods.coverage_sentence(counts, version), file=sys.stderr)
    else:
        overall = "chưa có" if result.overall is None else f"{clock.format_percent(result.overall, 2)}"
        print(f"{version}: {result.responses} phiếu, chỉ số hài lòng {overall}.")
        if others:
            print(periods.coverage_sentence(counts, version))
    return 0


def _command_line_actor() -> str:
    """Who acts from the command line, for the audit log: "dòng lệnh (<OS user>)"."""
    try:
        return f"dòng lệnh ({getpass.getuser()})"
    except (OSError, KeyError):  # no user name in the environment nor in the password database
        return "dòng lệnh"


def cmd_demo(args: argparse.Namespace) -> int:
    from sipas import demo
    from sipas.cases import intake

    with closing(db.open_db(db_path(args.db))) as conn:
        if args.delete:
            n = db.delete_demo_data(conn, _command_line_actor())
            kept = db.demo_cases_kept(conn)
            print(
                f"Đã xóa {n} phiếu dữ liệu mẫu."
                + (f" Giữ lại {kept} vụ việc mẫu đã có người xử lý, cùng các phiếu làm bằng chứng." if kept else "")
            )
            return 0
        if args.responses < 0:
            raise ValidationError("--responses phải ≥ 0.")
        before = db.count_responses(conn)
        demo.generate(conn, args.responses, seed=args.seed)
        intake.after_responses(conn)  # the cases the new surveys open, as for any stored survey
        added = db.count_responses(conn) - before
    print(f"Đã tạo {added} phiếu dữ liệu mẫu (seed {args.seed}) trong {db_path(args.db)}.")
    return 0


def cmd_cases(args: argparse.Namespace) -> int:
    """The cases, as a JSON array per data-interchange.md ("Cases"), or one line each for a person."""
    from sipas.cases.listing import list_cases_json

    with closing(db.open_db(db_path(args.db))) as conn:
        rows = list_cases_json(conn, args.status, args.kind)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
    else:
        for r in rows:
            print(f"#{r['id']} {r['kind']} {r['staff_code'] or '-'} {r['status']} {r['opened_at']}")
        print(f"{len(rows)} vụ việc.")
    return 0


def cmd_import_baseline(args: argparse.Namespace) -> int:
    from sipas.index.baseline import import_baseline

    path = Path(args.file)
    if not path.is_file():
        raise ValidationError(f"Không tìm thấy tệp {path}.")
    with closing(db.open_db(db_path(args.db))) as conn:
        summary = import_baseline(conn, path.read_bytes(), _label(path), actor="cli")
    print(summary.message())
    return 0


def _read_password(confirm: bool = True) -> str:
    """Prompt for a password (never a command-line argument); from stdin when it is not a terminal."""
    import getpass

    if not sys.stdin.isatty():
        lines = sys.stdin.read().splitlines()
        if not lines:
            raise ValidationError("Không đọc được mật khẩu từ đầu vào chuẩn.")
        if confirm and len(lines) > 1 and lines[1] != lines[0]:
            raise ValidationError("Hai lần nhập mật khẩu không khớp.")
        return lines[0]
    first = getpass.getpass("Mật khẩu (ít nhất 8 ký tự): ")
    if confirm and getpass.getpass("Nhập lại mật khẩu: ") != first:
        raise ValidationError("Hai lần nhập mật khẩu không khớp.")
    return first


def cmd_user(args: argparse.Namespace) -> int:
    from sipas.admin import auth

    with closing(db.open_db(db_path(args.db))) as conn:
        if args.action == "list":
            for u in db.list_users(conn):
                state = "đang dùng" if u["active"] else "đã khóa"
                admin = ", quản trị" if u["is_admin"] else ""
                print(f"{u['username']}\t{u['role']}{admin}\t{state}\t{u['full_name'] or ''}")
            return 0
        if not args.username:
            raise ValidationError("Cần tên đăng nhập.")
        if args.action == "add":
            if not args.role:
                raise ValidationError("Cần --role clerk hoặc --role chairman.")
            first = db.count_users(conn) == 0
            user = auth.create_user(
                conn,
                args.username,
                _read_password(),
                args.role,
                is_admin=args.admin or first,
                full_name=args.name,
                actor="cli",
            )
            print(f"Đã tạo tài khoản {user.username} ({auth.ROLES[user.role]}{', quản trị' if user.is_admin else ''}).")
        elif args.action == "disable":
            auth.set_active(conn, args.username, False, "cli")
            print(f"Đã khóa tài khoản {args.username}; các phiên đăng nhập đã kết thúc.")
        elif args.action == "enable":
            auth.set_active(conn, args.username, True, "cli")
            print(f"Đã mở khóa tài khoản {args.username}.")
        elif args.action == "reset-password":
            auth.set_password(conn, args.username, _read_password(), "cli")
            print(f"Đã đặt lại mật khẩu cho {args.username}; các phiên đăng nhập đã kết thúc.")
    return 0


# ---- tablet add / list / revoke (sipas.survey.devices) ---------------------------------------------


def cmd_tablet(args: argparse.Namespace) -> int:
    from sipas import clock
    from sipas.survey import devices

    with closing(db.open_db(db_path(args.db))) as conn:
        if args.action == "list":
            for d in db.list_devices(conn):
                if d["revoked_at"]:
                    state = f"đã thu hồi {d['revoked_at']}"
                elif d["enrolled_at"]:
                    state = f"đã đăng ký {d['enrolled_at']}, còn {d['tokens']} mã phiếu"
                else:
                    state = f"chờ mở liên kết đăng ký (hết hạn {d['enrol_expires']})"
                print(f"{d['name']}\t{state}")
            return 0
        if not args.name:
            raise ValidationError("Cần tên máy, ví dụ: python -m sipas tablet add quay1")
        if args.action == "add":
            code = devices.add(conn, args.name, now=clock.now(), actor=_command_line_actor())
            path = devices.enrolment_path(devices.check_name(args.name), code)
            print(f"Đã thêm máy {args.name}. Mở liên kết sau MỘT LẦN trên máy tính bảng (hết hạn sau "
                  f"{devices.ENROL_DAYS} ngày), thay <địa-chỉ> bằng địa chỉ của máy chủ:")  # fmt: skip
            print(f"http://<địa-chỉ>:8501{path}")
            print(f"Sau đó dấu trang của máy là http://<địa-chỉ>:8501{devices.tablet_path(args.name)}")
        else:
            devices.revoke(conn, args.name, now=clock.now(), actor=_command_line_actor())
            print(f"Đã thu hồi máy {args.name}: mọi phiếu từ máy này sẽ bị từ chối.")
    return 0


# ---- backup / restore / check (sipas.admin.backup, .restore, .check) -------------------------------


def _size(n: int) -> str:
    return f"{n / 1_048_576:.1f} MB" if n >= 1_048_576 else f"{n / 1024:.0f} KB"


def cmd_backup(args: argparse.Namespace) -> int:
    from sipas.admin import backup, leftovers

    source = db_path(args.db)
    leftovers.remove_leftovers_at_start(source, Path(args.out).parent)
    out = backup.backup_to(source, args.out, without_accounts=args.without_accounts)
    what = " (không có tài khoản, phiên đăng nhập, máy tính bảng)" if args.without_accounts else ""
    print(f"Đã sao lưu {source} vào {out}{what} ({_size(out.stat().st_size)}).")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from sipas.admin import restore

    result = restore.restore(
        db_path(args.db), Path(args.file), backup_dir=args.backup_dir, actor="cli", accept_foreign=args.accept_foreign
    )
    print(result.message())
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from sipas.admin import check, leftovers

    leftovers.remove_leftovers_at_start(db_path(args.db))
    problems = check.check_database(db_path(args.db))
    if not problems:
        print(check.OK_MESSAGE)
        return 0
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1


def cmd_key(args: argparse.Namespace) -> int:
    from sipas.admin import signing

    path = db_path(args.db)
    with closing(db.open_db(path)) as conn:
        if args.action == "show":
            code = signing.show_recovery_code(conn, path, _command_line_actor())
            print(signing.KEEP_ADVICE)
            print(code)
            return 0
        if sys.stdin.isatty():
            code = getpass.getpass("Mã khôi phục khóa (14 nhóm 4 ký tự): ")
        else:
            code = sys.stdin.readline()
        print(signing.restore_key_logged(conn, path, code, _command_line_actor()))
    return 0


def _add_backup_commands(sub) -> None:
    p = sub.add_parser(
        "key",
        help="mã khôi phục khóa ký bản sao lưu: show in mã để ghi lại; restore nhập mã trên máy mới (mã được hỏi)",
    )
    p.add_argument("action", choices=["show", "restore"], metavar="VIỆC", help="show (in mã) hoặc restore (nhập mã)")
    _add_db(p)
    p.set_defaults(func=cmd_key)
    p = sub.add_parser("backup", help="sao lưu cơ sở dữ liệu (an toàn khi ứng dụng đang chạy)")
    _add_db(p)
    p.add_argument("--out", required=True, metavar="TỆP", help="tệp sao lưu sẽ ghi (ghi đè nếu đã có)")
    p.add_argument(
        "--without-accounts",
        action="store_true",
        help="bản mang ra khỏi cơ quan: không có tài khoản (mã băm mật khẩu), phiên đăng nhập, "
        "máy tính bảng và khóa bí mật của chúng",
    )
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="khôi phục từ một tệp sao lưu (kiểm tra tệp trước; giữ lại bản đang dùng)")
    p.add_argument("file", metavar="TỆP", help="tệp sao lưu .db của phần mềm")
    _add_db(p)
    p.add_argument(
        "--backup-dir",
        metavar="THƯ_MỤC",
        help="nơi giữ bản trước khi khôi phục (mặc định: thư mục sao lưu trong cài đặt)",
    )
    p.add_argument(
        "--accept-foreign",
        action="store_true",
        help="chấp nhận một tệp không do cài đặt này ký (của máy khác hoặc phiên bản cũ); "
        "tệp bị sửa sau khi ký vẫn bị từ chối",
    )
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser("check", help="kiểm tra cơ sở dữ liệu: toàn vẹn, khóa ngoại, bảng tổng hợp, danh mục")
    _add_db(p)
    p.set_defaults(func=cmd_check)


# ---- end backup / restore / check -------------------------------------------------------------


# ---- report (sipas.reports) --------------------------------------------------------------------------


def cmd_report(args: argparse.Namespace) -> int:
    from sipas import reports

    out = Path(args.out)
    if out.suffix.lower() not in reports.SUFFIXES:
        raise ValidationError(f"--out {out.name}: chỉ nhận tệp .xlsx, .pdf hoặc .docx.")
    reports.parse_month(args.month)
    with closing(db.open_db(db_path(args.db))) as conn:
        path = reports.write_report(conn, args.month, out)
    print(f"Đã lập báo cáo tháng {args.month}: {path} ({_size_of(path)}).")
    return 0


def _size_of(path: Path) -> str:
    n = path.stat().st_size
    return f"{n / 1_048_576:.1f} MB" if n >= 1_048_576 else f"{n / 1024:.0f} KB"


def _add_report_command(sub) -> None:
    p = sub.add_parser("report", help="lập báo cáo tháng (Excel .xlsx, PDF .pdf hoặc Word .docx)")
    p.add_argument("--month", required=True, metavar="YYYY-MM", help="tháng báo cáo, ví dụ 2024-05")
    p.add_argument("--out", required=True, metavar="TỆP", help="tệp sẽ ghi: đuôi .xlsx, .pdf hoặc .docx")
    _add_db(p)
    p.set_defaults(func=cmd_report)


# ---- end report -------------------------------------------------------------------------------


# ---- import-tickets (sipas.staffing.waiting) ------------------------------------------------------------


def cmd_import_tickets(args: argparse.Namespace) -> int:
    from sipas.files.tickets import import_tickets

    path = Path(args.file)
    if not path.is_file():
        raise ValidationError(f"Không tìm thấy tệp {path}.")
    with closing(db.open_db(db_path(args.db))) as conn:
        summary = import_tickets(conn, path.read_bytes(), _label(path), actor="cli")
    print(summary.message())
    return 0


def _add_tickets_command(sub) -> None:
    p = sub.add_parser("import-tickets", help="nhập nhật ký máy lấy số từ tệp CSV/XLSX (tất cả hoặc không gì)")
    p.add_argument(
        "file",
        metavar="TỆP",
        help="tệp .csv hoặc .xlsx: ticket_id, service, counter, issued_at, called_at, finished_at",
    )
    _add_db(p)
    p.set_defaults(func=cmd_import_tickets)


# ---- end import-tickets -----------------------------------------------------------------------


# ---- import-dossiers, dossiers (sipas.files.dossiers, sipas.index.dossiers) -------------------------------


def cmd_import_dossiers(args: argparse.Namespace) -> int:
    from sipas.files.dossiers import import_dossiers

    path = Path(args.file)
    if not path.is_file():
        raise ValidationError(f"Không tìm thấy tệp {path}.")
    with closing(db.open_db(db_path(args.db))) as conn:
        summary = import_dossiers(conn, path.read_bytes(), _label(path), source=args.source, actor="cli")
    print(summary.message())
    return 0


def cmd_dossiers(args: argparse.Namespace) -> int:
    from sipas.index.dossiers import month_json

    with closing(db.open_db(db_path(args.db))) as conn:
        figures = month_json(conn, args.month)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
    else:
        print(
            f"Tháng {args.month}: {figures['received']} hồ sơ tiếp nhận, {figures['finished']} đã có kết quả "
            f"({figures['early']} trước hạn, {figures['on_time']} đúng hạn, {figures['late']} trễ hạn), "
            f"{figures['open_overdue']} chưa có kết quả và đã quá hạn."
        )
    return 0


def _add_dossier_commands(sub) -> None:
    p = sub.add_parser(
        "import-dossiers", help="nhập danh sách hồ sơ của hệ thống một cửa của tỉnh (CSV/XLSX, tất cả hoặc không gì)"
    )
    p.add_argument(
        "file",
        metavar="TỆP",
        help="tệp .csv hoặc .xlsx theo data-interchange.md §Dossiers (tiêu đề tiếng Việt được nhận)",
    )
    p.add_argument("--source", metavar="TÊN", help="nguồn có bảng đối chiếu cột đã đặt (thiết lập dossier_column_maps)")
    _add_db(p)
    p.set_defaults(func=cmd_import_dossiers)

    p = sub.add_parser("dossiers", help="số liệu hồ sơ của một tháng (đúng hạn, kênh nộp, nhóm QĐ 766)")
    p.add_argument("--month", required=True, metavar="YYYY-MM", help="tháng, ví dụ 2024-05")
    p.add_argument("--json", action="store_true", help="in kết quả dạng JSON")
    _add_db(p)
    p.set_defaults(func=cmd_dossiers)


# ---- end import-dossiers, dossiers -----------------------------------------------------------------


# ---- qr-cards (sipas.survey.qr, sipas.reports.qr_cards) ----------------------------------------------


def cmd_qr_cards(args: argparse.Namespace) -> int:
    from sipas.admin import settings
    from sipas.reports import qr_cards
    from sipas.survey import qr

    out = Path(args.out)
    if not out.parent.is_dir():
        raise ValidationError(f"Không có thư mục {out.parent} để ghi tệp PDF.")
    dossiers = None
    if args.dossiers is not None:
        path = Path(args.dossiers)
        if not path.is_file():
            raise ValidationError(f"Không tìm thấy tệp {path}.")
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError(f"Tệp {_label(path)} không phải văn bản UTF-8 (mỗi dòng một mã hồ sơ).") from None
        dossiers = qr.parse_dossier_codes(text)
    now = clock.now()
    with closing(db.open_db(db_path(args.db))) as conn:
        cards = qr.issue_sheet(conn, args.count, now=now, actor=_command_line_actor(), dossiers=dossiers)
        unit = settings.get(conn, "unit_name", now.date())
    partial = out.with_name(out.name + ".partial")
    partial.write_bytes(qr_cards.to_pdf(cards, unit))
    partial.replace(out)
    print(
        f"Đã in {len(cards)} phiếu mã QR vào {out} (mã dùng một lần, hết hạn ngày "
        f"{cards[0].expires_at.strftime('%d/%m/%Y')})."
    )
    return 0


def _add_qr_cards_command(sub) -> None:
    p = sub.add_parser("qr-cards", help="in phiếu mã QR dùng một lần để người dân đánh giá trên điện thoại (PDF)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--count", type=int, metavar="SỐ", help="số phiếu (1–200)")
    what.add_argument(
        "--dossiers", metavar="TỆP", help="tệp văn bản UTF-8, mỗi dòng một mã hồ sơ: mỗi hồ sơ một phiếu (tối đa 200)"
    )
    p.add_argument("--out", required=True, metavar="TỆP", help="tệp PDF cần ghi, ví dụ cards.pdf")
    _add_db(p)
    p.set_defaults(func=cmd_qr_cards)


# ---- end qr-cards -------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = VietnameseArgumentParser(
        prog="python -m sipas", description="Khảo sát mức độ hài lòng tại Bộ phận Một cửa (phương pháp SIPAS)."
    )
    parser.add_argument("--version", action="version", version=f"sipas {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="LỆNH")

    p = sub.add_parser("import-responses", help="nhập phiếu khảo sát từ tệp CSV/XLSX (tất cả hoặc không gì)")
    p.add_argument("file", metavar="TỆP", help="tệp .csv hoặc .xlsx theo mẫu của data-interchange.md")
    p.add_argument(
        "--allow-repeats",
        action="store_true",
        help="lưu cả những phiếu có nội dung trùng với phiếu đã nhập từ một tệp trước (khi đúng là phiếu khác)",
    )
    _add_db(p)
    p.set_defaults(func=cmd_import_responses)

    p = sub.add_parser("import-baseline", help="nhập số liệu gốc (chỉ số đã công bố của năm trước)")
    p.add_argument(
        "file", metavar="TỆP", help="tệp .csv hoặc .xlsx: year, questionnaire, level, code, index, n, satisfied"
    )
    _add_db(p)
    p.set_defaults(func=cmd_import_baseline)

    p = sub.add_parser("user", help="quản lý tài khoản cán bộ (mật khẩu được hỏi, không nhận qua tham số)")
    p.add_argument(
        "action",
        choices=["add", "list", "disable", "enable", "reset-password"],
        metavar="VIỆC",
        help="add (thêm), list (liệt kê), disable (khóa), enable (mở khóa) hoặc reset-password (đặt lại mật khẩu)",
    )
    p.add_argument("username", nargs="?", metavar="TÊN_ĐĂNG_NHẬP", help="tên đăng nhập (trừ khi liệt kê)")
    p.add_argument("--role", choices=["clerk", "chairman"], help="vai trò: clerk (công chức) hoặc chairman (Chủ tịch)")
    p.add_argument("--admin", action="store_true", help="cấp quyền quản trị tài khoản")
    p.add_argument("--name", metavar="HỌ_TÊN", help="họ và tên")
    _add_db(p)
    p.set_defaults(func=cmd_user)

    p = sub.add_parser("tablet", help="đăng ký, liệt kê hoặc thu hồi máy tính bảng khảo sát")
    p.add_argument(
        "action",
        choices=["add", "list", "revoke"],
        metavar="VIỆC",
        help="add (đăng ký), list (liệt kê) hoặc revoke (thu hồi)",
    )
    p.add_argument("name", nargs="?", metavar="TÊN_MÁY", help="tên máy (chữ không dấu, số, - hoặc _), ví dụ quay1")
    _add_db(p)
    p.set_defaults(func=cmd_tablet)

    p = sub.add_parser("classify", help="phân loại góp ý: mỗi dòng vào một góp ý, mỗi dòng ra một đối tượng JSON")
    _add_db(p)
    p.set_defaults(func=cmd_classify)

    p = sub.add_parser("index", help="tính chỉ số hài lòng")
    _add_db(p)
    p.add_argument("--from", dest="date_from", type=_iso_date, metavar="YYYY-MM-DD", help="từ ngày")
    p.add_argument("--to", dest="date_to", type=_iso_date, metavar="YYYY-MM-DD", help="đến ngày")
    p.add_argument("--questionnaire", metavar="MÃ", help="phiên bản phiếu (mặc định: phiên bản đang dùng)")
    p.add_argument("--json", action="store_true", help="in kết quả dạng JSON")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("demo", help="tạo dữ liệu mẫu (hoặc xóa với --delete)")
    _add_db(p)
    p.add_argument("--responses", type=int, default=3000, metavar="SỐ", help="số phiếu mẫu cần tạo (mặc định 3000)")
    p.add_argument("--seed", type=int, default=2024, metavar="SỐ", help="hạt giống ngẫu nhiên (mặc định 2024)")
    p.add_argument("--delete", action="store_true", help="xóa toàn bộ dữ liệu mẫu")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("cases", help="liệt kê vụ việc (phản ánh, tín hiệu, biện pháp) với bằng chứng")
    p.add_argument("--status", metavar="TRẠNG_THÁI", help="lọc theo trạng thái, ví dụ moi, dang_xac_minh, co_co_so")
    p.add_argument("--kind", metavar="LOẠI", help="lọc theo loại: conduct, signal, staffing, criterion, pakn")
    p.add_argument("--json", action="store_true", help="in kết quả dạng JSON")
    _add_db(p)
    p.set_defaults(func=cmd_cases)

    _add_backup_commands(sub)  # backup, restore, check

    _add_report_command(sub)  # report

    _add_tickets_command(sub)  # import-tickets

    _add_dossier_commands(sub)  # import-dossiers, dossiers

    _add_qr_cards_command(sub)  # qr-cards

    # Listed here for the overview; its arguments are parsed by sipas.staffing.erlang (see main), because
    # argparse.REMAINDER does not capture options such as --json or --help.
    sub.add_parser("staffing", help="số quầy cần theo mô hình Erlang C", add_help=False)
    return parser


def _staffing(rest: list[str]) -> int:
    from sipas.staffing.erlang import staffing_command

    return staffing_command(rest)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["staffing"]:
        return _staffing(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ValidationError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    except SipasError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except (sqlite3.Error, OSError) as exc:
        from sipas import faults

        message = faults.describe(exc, db_path(getattr(args, "db", None)))
        if message is None:
            raise
        print(message, file=sys.stderr)
        return 1
