"""Write data/comments/corpus.csv: the labelled comments the conduct classifier is trained and checked on.

The corpus is composed, with a fixed seed, from hand-written clauses of what citizens write on a commune
counter's tablet (each clause labelled by hand per data/comments/GUIDE.md); a comment is one to three
clauses joined as people join them ("…, nhưng …", "… . …"), then typed as people type: without diacritics,
with the usual abbreviations ("ko", "k", "dc", "nv", "cb"), decomposed (NFD), or in the legacy TCVN3 font.
Each row names its ``group`` (the clause that decides its conduct label), so cross-validation can keep
every wording of a clause on one side (bench/bench_classifier.py).

Run: python bench/make_comment_corpus.py   (rewrites the file; the same seed gives the same file)
"""

from __future__ import annotations

import csv
import random
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sipas.index.comments import normalize  # noqa: E402

OUT = ROOT / "data" / "comments" / "corpus.csv"
TOPICS = ("thai_do", "cho_doi", "ho_so", "co_so_vat_chat", "phi_tieu_cuc", "khac")

# (text, {topic: polarity}, conduct complaint)
C = True
CLAUSES: list[tuple[str, dict, bool]] = [
    # --- complaints about a staff member's conduct
    ("Chị Hồng nói chuyện hơi gắt với người lớn tuổi", {"thai_do": "che"}, C),
    ("Cán bộ thái độ cáu gắt", {"thai_do": "che"}, C),
    ("Nhân viên nói trống không với dân", {"thai_do": "che"}, C),
    ("Anh cán bộ quát tháo người dân", {"thai_do": "che"}, C),
    ("Cán bộ hách dịch, khó chịu", {"thai_do": "che"}, C),
    ("Thái độ cán bộ chưa niềm nở", {"thai_do": "che"}, C),
    ("Cán bộ tiếp nhận không nhiệt tình", {"thai_do": "che"}, C),
    ("Hỏi mấy lần cán bộ không trả lời", {"thai_do": "che"}, C),
    ("Cán bộ mải nói chuyện điện thoại để dân đứng đợi", {"thai_do": "che", "cho_doi": "che"}, C),
    ("Nhân viên vừa làm vừa xem điện thoại", {"thai_do": "che"}, C),
    ("Cô tiếp nhận hồ sơ nói năng cộc lốc", {"thai_do": "che"}, C),
    ("Cán bộ tỏ ra khó chịu khi tôi hỏi lại", {"thai_do": "che"}, C),
    ("Tôi bị cán bộ mắng vì điền sai tờ khai", {"thai_do": "che", "ho_so": "trung_tinh"}, C),
    ("Cán bộ thiếu tôn trọng người dân", {"thai_do": "che"}, C),
    ("Cậu cán bộ trẻ trả lời nhát gừng", {"thai_do": "che"}, C),
    ("Cán bộ cố tình gây khó dễ", {"thai_do": "che"}, C),
    ("Cán bộ hạch sách đủ thứ giấy tờ không cần thiết", {"thai_do": "che", "ho_so": "che"}, C),
    ("Nhân viên lớn tiếng với bà cụ", {"thai_do": "che"}, C),
    ("Anh Tuấn ở quầy 2 thái độ không đúng mực", {"thai_do": "che"}, C),
    ("Cán bộ mặt lúc nào cũng cau có", {"thai_do": "che"}, C),
    ("Nhân viên làm việc riêng trong giờ hành chính", {"thai_do": "che"}, C),
    ("Cán bộ đến muộn để dân ngồi chờ cả buổi", {"thai_do": "che", "cho_doi": "che"}, C),
    ("Chị ấy gạt hồ sơ ra mà không giải thích gì", {"thai_do": "che", "ho_so": "che"}, C),
    ("Cán bộ nói như ra lệnh, rất khó nghe", {"thai_do": "che"}, C),
    ("Thái độ phục vụ của cán bộ kém", {"thai_do": "che"}, C),
    ("Cán bộ thờ ơ với câu hỏi của dân", {"thai_do": "che"}, C),
    ("Hướng dẫn qua loa, hỏi lại thì gắt", {"thai_do": "che", "ho_so": "che"}, C),
    ("Cán bộ không thèm nhìn mặt người dân", {"thai_do": "che"}, C),
    ("Nhân viên ăn nói xấc xược", {"thai_do": "che"}, C),
    ("Tôi bị nhân viên quát giữa phòng", {"thai_do": "che"}, C),
    ("Cán bộ tiếp dân như ban ơn", {"thai_do": "che"}, C),
    ("Cô ấy đuổi khéo bảo mai quay lại", {"thai_do": "che"}, C),
    ("Cán bộ bỏ đi uống nước để mặc dân chờ", {"thai_do": "che", "cho_doi": "che"}, C),
    ("Anh cán bộ hút thuốc ngay tại quầy", {"thai_do": "che"}, C),
    ("Cán bộ ưu tiên người quen, làm trước cho họ", {"thai_do": "che", "cho_doi": "che"}, C),
    ("Nhân viên cáu kỉnh với người hỏi nhiều", {"thai_do": "che"}, C),
    ("Cán bộ nói chuyện thiếu lịch sự", {"thai_do": "che"}, C),
    ("Chị cán bộ giọng điệu khinh khỉnh", {"thai_do": "che"}, C),
    ("Cán bộ gợi ý bồi dưỡng thì làm nhanh", {"thai_do": "che", "phi_tieu_cuc": "che"}, C),
    ("Bị cán bộ đòi thêm tiền ngoài quy định", {"thai_do": "che", "phi_tieu_cuc": "che"}, C),
    ("Cán bộ vòi vĩnh tiền cà phê", {"thai_do": "che", "phi_tieu_cuc": "che"}, C),
    ("Cán bộ nhận phong bì mới giải quyết", {"thai_do": "che", "phi_tieu_cuc": "che"}, C),
    ("Nhân viên dọa trả hồ sơ nếu không đưa tiền", {"thai_do": "che", "phi_tieu_cuc": "che"}, C),
    ("Cán bộ buông lời khó nghe với tôi", {"thai_do": "che"}, C),
    ("Anh công chức tư pháp rất hống hách", {"thai_do": "che"}, C),
    ("Cán bộ một cửa không chịu hướng dẫn, bảo tự đi mà hỏi", {"thai_do": "che", "ho_so": "che"}, C),
    # --- praise of a staff member (never a complaint)
    ("Cán bộ hướng dẫn tận tình", {"thai_do": "khen"}, False),
    ("Nhân viên nhiệt tình", {"thai_do": "khen"}, False),
    ("Chị Hồng rất vui vẻ", {"thai_do": "khen"}, False),
    ("Cán bộ lịch sự, chu đáo", {"thai_do": "khen"}, False),
    ("Thái độ phục vụ tốt", {"thai_do": "khen"}, False),
    ("Cán bộ niềm nở, dễ gần", {"thai_do": "khen"}, False),
    ("Anh cán bộ giải thích dễ hiểu", {"thai_do": "khen"}, False),
    ("Cảm ơn chị cán bộ đã giúp đỡ", {"thai_do": "khen"}, False),
    ("Không có gì phàn nàn về thái độ", {"thai_do": "khen"}, False),
    ("Cán bộ không hề gắt gỏng dù đông người", {"thai_do": "khen"}, False),
    ("Nhân viên không cáu dù tôi hỏi nhiều lần", {"thai_do": "khen"}, False),
    ("Cán bộ trẻ nhưng làm việc rất chuyên nghiệp", {"thai_do": "khen"}, False),
    ("Anh Tuấn hỗ trợ người già rất chu đáo", {"thai_do": "khen"}, False),
    ("Cán bộ ân cần, nhẹ nhàng", {"thai_do": "khen"}, False),
    ("Rất hài lòng với cách phục vụ của cán bộ", {"thai_do": "khen"}, False),
    ("Cô cán bộ tư pháp rất dễ thương", {"thai_do": "khen"}, False),
    ("Nhân viên tận tâm, làm việc nhanh nhẹn", {"thai_do": "khen"}, False),
    ("Cán bộ kiên nhẫn giải thích cho tôi hiểu", {"thai_do": "khen"}, False),
    # --- suggestions about staff (not complaints)
    ("Mong cán bộ nói to hơn một chút", {"thai_do": "gop_y"}, False),
    ("Đề nghị cán bộ đeo thẻ tên", {"thai_do": "gop_y"}, False),
    ("Cán bộ nên giải thích chậm hơn cho người già", {"thai_do": "gop_y"}, False),
    ("Nên có thêm cán bộ hướng dẫn vào giờ cao điểm", {"thai_do": "gop_y", "cho_doi": "gop_y"}, False),
    ("Mong nhân viên giữ thái độ như hôm nay", {"thai_do": "khen"}, False),
    # --- waiting
    ("Phải chờ hơi lâu", {"cho_doi": "che"}, False),
    ("Chờ gần hai tiếng mới đến lượt", {"cho_doi": "che"}, False),
    ("Đông quá phải xếp hàng lâu", {"cho_doi": "che"}, False),
    ("Giải quyết chậm, trễ hẹn ba ngày", {"cho_doi": "che"}, False),
    ("Đến hẹn mà chưa có kết quả", {"cho_doi": "che", "ho_so": "che"}, False),
    ("Làm nhanh, không phải chờ", {"cho_doi": "khen"}, False),
    ("Được giải quyết nhanh gọn", {"cho_doi": "khen"}, False),
    ("Trả kết quả sớm hơn hẹn", {"cho_doi": "khen"}, False),
    ("Nên mở thêm quầy buổi sáng thứ Hai", {"cho_doi": "gop_y"}, False),
    ("Đề nghị có máy lấy số thứ tự", {"cho_doi": "gop_y", "co_so_vat_chat": "gop_y"}, False),
    ("Buổi sáng đông, buổi chiều vắng hơn", {"cho_doi": "trung_tinh"}, False),
    # --- dossier / procedure
    ("Phải bổ sung giấy tờ nhiều lần", {"ho_so": "che"}, False),
    ("Thủ tục còn rườm rà", {"ho_so": "che"}, False),
    ("Biểu mẫu khó hiểu", {"ho_so": "che"}, False),
    ("Phải đi lại ba lần mới xong", {"ho_so": "che"}, False),
    ("Thủ tục đơn giản, nhanh gọn", {"ho_so": "khen"}, False),
    ("Hồ sơ được tiếp nhận ngay", {"ho_so": "khen"}, False),
    ("Nên niêm yết rõ danh mục giấy tờ cần mang", {"ho_so": "gop_y"}, False),
    ("Mong giảm bớt giấy tờ chứng thực", {"ho_so": "gop_y"}, False),
    ("Tôi đến làm giấy khai sinh cho con", {"ho_so": "trung_tinh"}, False),
    ("Hôm nay làm thủ tục chứng thực", {"ho_so": "trung_tinh"}, False),
    ("Nộp hồ sơ trực tuyến bị lỗi phải lên tận nơi", {"ho_so": "che"}, False),
    # --- facilities
    ("Phòng chờ nóng, không có quạt", {"co_so_vat_chat": "che"}, False),
    ("Thiếu ghế ngồi", {"co_so_vat_chat": "che"}, False),
    ("Nhà vệ sinh bẩn", {"co_so_vat_chat": "che"}, False),
    ("Chỗ để xe chật", {"co_so_vat_chat": "che"}, False),
    ("Máy lấy số bị hỏng", {"co_so_vat_chat": "che"}, False),
    ("Đề nghị bố trí thêm quạt ở khu vực chờ", {"co_so_vat_chat": "gop_y"}, False),
    ("Nên có nước uống cho người dân", {"co_so_vat_chat": "gop_y"}, False),
    ("Phòng một cửa sạch sẽ, thoáng mát", {"co_so_vat_chat": "khen"}, False),
    ("Có wifi miễn phí rất tiện", {"co_so_vat_chat": "khen"}, False),
    # --- fees, not a person's conduct
    ("Lệ phí hơi cao", {"phi_tieu_cuc": "che"}, False),
    ("Phí chứng thực đắt hơn chỗ khác", {"phi_tieu_cuc": "che"}, False),
    ("Thu đúng lệ phí, có biên lai", {"phi_tieu_cuc": "khen"}, False),
    ("Nên cho thanh toán lệ phí qua chuyển khoản", {"phi_tieu_cuc": "gop_y"}, False),
    ("Không phải đưa tiền ngoài gì cả", {"phi_tieu_cuc": "khen"}, False),
    # --- other
    ("Cảm ơn", {"khac": "khen"}, False),
    ("Không có ý kiến", {"khac": "trung_tinh"}, False),
    ("Bình thường", {"khac": "trung_tinh"}, False),
    ("Hài lòng", {"khac": "khen"}, False),
    ("Tốt", {"khac": "khen"}, False),
    ("Chúc cán bộ xã sức khỏe", {"khac": "khen"}, False),
    ("Ok", {"khac": "trung_tinh"}, False),
]

JOINERS = (", ", ". ", " nhưng ", "; ", " tuy nhiên ", ", còn ")
ABBREV = (("không", "ko"), ("không", "k"), ("được", "dc"), ("được", "đc"), ("nhân viên", "nv"), ("cán bộ", "cb"))


def strip_marks(text: str) -> str:
    out = unicodedata.normalize("NFD", text).replace("đ", "d").replace("Đ", "D")
    return "".join(ch for ch in out if not unicodedata.combining(ch))


def to_tcvn3(text: str) -> str:
    from sipas.files.legacy import _TCVN3_DST, _TCVN3_SRC

    back = str.maketrans(_TCVN3_DST, _TCVN3_SRC)
    return unicodedata.normalize("NFC", text).lower().translate(back)


def typed(text: str, rng: random.Random) -> str:
    """One way a citizen types the text on the tablet (or an old spreadsheet holds it)."""
    r = rng.random()
    if r < 0.15:
        for full, short in ABBREV:
            if full in text.lower() and rng.random() < 0.7:
                text = text.replace(full, short).replace(full.capitalize(), short)
    r2 = rng.random()
    if r2 < 0.22:
        text = strip_marks(text).lower()
    elif r2 < 0.27:
        text = unicodedata.normalize("NFD", text)
    elif r2 < 0.31:
        text = to_tcvn3(text)
    return text


def compose(rng: random.Random) -> tuple[str, dict, bool, int]:
    k = rng.choices((1, 2, 3), weights=(45, 40, 15))[0]
    picks: list[int] = []
    conduct_ids = [i for i, c in enumerate(CLAUSES) if c[2]]
    other_ids = [i for i, c in enumerate(CLAUSES) if not c[2] and "khac" not in c[1]]
    if rng.random() < 0.08:  # a bare "Cảm ơn", "Bình thường" …
        i = rng.choice([i for i, c in enumerate(CLAUSES) if "khac" in c[1]])
        return CLAUSES[i][0], CLAUSES[i][1], False, i
    while len(picks) < k:
        i = rng.choice(conduct_ids) if not picks and rng.random() < 0.3 else rng.choice(other_ids)
        if all(not (set(CLAUSES[i][1]) & set(CLAUSES[j][1])) for j in picks):
            picks.append(i)
    labels: dict = {}
    text = ""
    for n, i in enumerate(picks):
        clause = CLAUSES[i][0]
        if n:
            clause = clause[0].lower() + clause[1:] if not clause.startswith(("Chị Hồng", "Anh Tuấn")) else clause
            text += rng.choice(JOINERS)
        text += clause
        labels.update(CLAUSES[i][1])
    if rng.random() < 0.7:
        text += "."
    conduct = [i for i in picks if CLAUSES[i][2]]
    group = conduct[0] if conduct else picks[0]
    return text, labels, bool(conduct), group


def main() -> None:
    rng = random.Random(20)
    rows, seen = [], set()
    # every clause once alone, as written, then composed comments
    candidates = [(c[0] + ".", c[1], c[2], i) for i, c in enumerate(CLAUSES)]
    while len(candidates) < 3000:
        candidates.append(compose(rng))
    for text, labels, conduct, group in candidates:
        shown = typed(text, rng) if len(rows) >= len(CLAUSES) else text
        key = normalize(shown)
        if key in seen:
            continue
        seen.add(key)
        rows.append(
            {"text": shown, **{t: labels.get(t, "") for t in TOPICS}, "conduct_complaint": int(conduct), "group": group}
        )
        if len(rows) >= 720:
            break
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["text", *TOPICS, "conduct_complaint", "group"])
        w.writeheader()
        w.writerows(rows)
    print(f"{len(rows)} comments, {sum(r['conduct_complaint'] for r in rows)} conduct complaints -> {OUT}")


if __name__ == "__main__":
    main()
