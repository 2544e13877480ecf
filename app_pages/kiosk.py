"""The counter tablet: welcome → one screen per element → overall → context → comment → thanks.

Roles: anyone (the default page for a visitor who is not logged in). Nothing here shows staff data.
The survey lives in ``st.session_state["kiosk"]`` (our own keys, not widget state, so answers
survive going back and forth). The database write happens in the submit button's callback with a
per-survey token, so a double tap or a retried request stores the survey exactly once.
"""

from __future__ import annotations

import logging
import random
import time
import uuid

import streamlit as st

import ui
from sipas import clock, db, settings
from sipas.catalog import questionnaire, survey_options
from sipas.errors import SipasError, ValidationError
from sipas.responses import KioskSurvey, choose_criteria, submit_kiosk_survey

log = logging.getLogger("sipas.kiosk")

IDLE_SECONDS = ui.env_seconds("SIPAS_KIOSK_IDLE_SECONDS", 90)
# Typing a comment on a tablet is slow and sends nothing until the box loses focus: allow longer.
IDLE_SECONDS_COMMENT = ui.env_seconds("SIPAS_KIOSK_IDLE_SECONDS_COMMENT", 180)
THANKS_SECONDS = ui.env_seconds("SIPAS_KIOSK_THANKS_SECONDS", 8)
SUBMIT_FAILED = (
    'Chưa gửi được phiếu do sự cố kỹ thuật. Xin Ông/Bà bấm "Gửi đánh giá" lại sau giây lát; '
    "phiếu sẽ chỉ được ghi một lần."
)
NO_OPINION = 0  # the pills option for "Không ý kiến"; stored as not answered (NULL), never as 3

OPTS = survey_options()
SCALE = {s["value"]: f"{s['face']} {s['label']}" for s in OPTS["scale"]}
SCALE[NO_OPINION] = OPTS["no_opinion"]


def state() -> dict:
    if "kiosk" not in st.session_state:
        st.session_state["kiosk"] = {"phase": "welcome"}
    return st.session_state["kiosk"]


def touch() -> None:
    state()["last_activity"] = time.monotonic()


def device_name() -> str | None:
    value = (st.query_params.get("device") or "").replace("\x00", "")  # %00 in the address: never stored
    return value[:40] or None


# ------------------------------------------------------------------------------ callbacks


def start_survey() -> None:
    with ui.conn() as c:
        version = settings.get(c, "active_questionnaire")
        per_survey = settings.get(c, "questions_per_survey")
        asked = db.asked_counts(c, version) if per_survey["mode"] == "short" else {}
        fields = settings.get(c, "fields")
        staff = [(m["code"], m["full_name"]) for m in db.list_staff(c, active_only=True)]
    q = questionnaire(version)
    codes = choose_criteria(q, per_survey["mode"], per_survey["rotating"], asked, random.Random())
    elements = [e.code for e in q.elements if any(c.code in codes for c in e.criteria)]
    steps = [("element", e) for e in elements] + [("overall", ""), ("context", ""), ("comment", "")]
    s = state()
    s.clear()
    s.update(
        phase="survey",
        step=0,
        steps=steps,
        error=None,
        fields=fields,
        staff=staff,
        survey=KioskSurvey(
            token=str(uuid.uuid4()), questionnaire=version, asked=codes, answers={}, started_at=clock.now()
        ),
    )
    touch()


def go(delta: int) -> None:
    s = state()
    if s.get("phase") != "survey":
        return
    s["step"] = max(0, min(len(s["steps"]) - 1, s["step"] + delta))
    s["error"] = None
    touch()


def set_answer(key: str, attr: str) -> None:
    """Copy a widget's value into the survey (called on every tap)."""
    s = state()
    if s.get("phase") != "survey":
        return
    value = st.session_state.get(key)
    survey: KioskSurvey = s["survey"]
    if attr.startswith("TC"):
        survey.answers[attr] = None if value in (None, NO_OPINION) else value
    elif attr == "comment":
        survey.comment = value or None
    elif attr == "staff_code":
        survey.staff_code = None if value in (None, "") else value
    else:
        setattr(survey, attr, value if value not in ([], "") else None)
    s["error"] = None
    touch()


def submit() -> None:
    s = state()
    if s.get("phase") != "survey":  # a second tap after the first one was stored
        return
    survey: KioskSurvey = s["survey"]
    try:
        with ui.conn() as c:
            hours = settings.get(c, "opening_hours")
            submit_kiosk_survey(c, survey, device=device_name(), out_of_hours=not settings.is_open(hours, clock.now()))
    except ValidationError as exc:
        s["error"] = "\n".join(exc.problems)
        touch()
        return
    except Exception:  # a callback's exception would reach the tablet's screen: keep the survey, let them retry
        log.exception("could not store a kiosk survey")
        s["error"] = SUBMIT_FAILED
        touch()
        return
    s.clear()
    s.update(phase="thanks", thanks_until=time.monotonic() + THANKS_SECONDS)


def abandon_if_idle() -> bool:
    s = state()
    if s.get("phase") != "survey":
        return False
    step_kind = s["steps"][s["step"]][0]
    limit = IDLE_SECONDS_COMMENT if step_kind == "comment" else IDLE_SECONDS
    if time.monotonic() - s.get("last_activity", time.monotonic()) < limit:
        return False
    try:
        with ui.conn() as c:
            db.record_abandoned(c, clock.now(), s["step"] + 1, device_name())
    except Exception:  # counting is best effort; the reset must happen anyway
        log.exception("could not count an abandoned survey")
    s.clear()
    s["phase"] = "welcome"
    return True


# ------------------------------------------------------------------------------ screens


def counter_status() -> tuple[str, bool]:
    """(unit name, whether the kiosk should show the closed screen now)."""
    now = clock.now()
    with ui.conn() as c:
        unit = settings.get(c, "unit_name", now.date())
        hours = settings.get(c, "opening_hours")
        closed = settings.get(c, "kiosk_closed_outside_hours") and not settings.is_open(hours, now)
    return unit, closed


def staff_link() -> None:
    """The only way out of the kiosk, unobtrusive; absent on a locked counter tablet."""
    if not st.session_state.get("kiosk_device") and st.session_state.get("login_page") is not None:
        st.page_link(st.session_state["login_page"], label="Cán bộ đăng nhập")


def welcome() -> None:
    unit, closed = counter_status()
    if closed:
        st.title("Đã hết giờ làm việc")
        st.markdown(
            f"**{escape_md(unit)}** hiện không tiếp nhận hồ sơ. Xin mời Ông/Bà quay lại trong giờ làm việc. Xin cảm ơn!"
        )
        staff_link()

        @st.fragment(run_every=60)
        def reopen_watch() -> None:
            if not counter_status()[1]:
                st.rerun()

        reopen_watch()
        return
    st.title("Ông/Bà hài lòng với sự phục vụ hôm nay chứ?")
    st.markdown(f"**{escape_md(unit)}** mong nhận ý kiến của Ông/Bà để phục vụ tốt hơn. Chỉ mất khoảng một phút.")
    st.button("Bắt đầu đánh giá", type="primary", width="stretch", on_click=start_survey, key="start")
    st.caption("🔒 Phiếu khảo sát ẩn danh: không hỏi họ tên, số điện thoại hay giấy tờ tùy thân.")
    public_summary()
    staff_link()


def public_summary() -> None:
    """ "Người dân nói — chúng tôi đã làm": this month's measures (no staff names), if the clerk turned it on."""
    from sipas import actions

    now = clock.now()
    with ui.conn() as c:
        if not settings.get(c, "public_summary_on_kiosk"):
            return
        lines = actions.public_summary(c, now.strftime("%Y-%m"))
    if lines:
        with st.container(border=True):
            st.markdown("**Người dân nói — chúng tôi đã làm**")
            for line in lines[:5]:
                st.text("• " + line)


escape_md = ui.escape_md  # settings text (the unit's name) shown literally inside Markdown


def pills(label: str, options: list, attr: str, current, fmt=None, multi: bool = False) -> None:
    s = state()
    key = f"w:{s['survey'].token}:{attr}"
    st.pills(
        label,
        options,
        selection_mode="multi" if multi else "single",
        default=current,
        format_func=fmt or str,
        key=key,
        on_change=set_answer,
        args=(key, attr),
        width="stretch",
    )


def element_screen(code: str) -> None:
    s = state()
    survey: KioskSurvey = s["survey"]
    q = questionnaire(survey.questionnaire)
    element = q.element(code)
    st.subheader(f"{element.name}")
    st.caption("Xin Ông/Bà chọn một mức cho từng nhận định. Không rõ thì chọn “Không ý kiến”.")
    for crit in element.criteria:
        if crit.code not in survey.asked:
            continue
        current = survey.answers.get(crit.code, "unset")
        current = None if current == "unset" else (NO_OPINION if current is None else current)
        pills(crit.text, list(SCALE), crit.code, current, fmt=SCALE.get)


def overall_screen() -> None:
    survey: KioskSurvey = state()["survey"]
    pills(OPTS["overall_question"], [1, 2, 3, 4, 5], "overall", survey.overall, fmt=SCALE.get)
    for attr in ("harassment", "informal_payment"):
        spec = OPTS[attr]
        labels = {o["value"]: o["label"] for o in spec["options"]}
        pills(spec["question"], list(labels), attr, getattr(survey, attr), fmt=labels.get)


def context_screen() -> None:
    s = state()
    survey: KioskSurvey = s["survey"]
    buckets = {b["code"]: b["label"] for b in OPTS["wait"]["buckets"]}
    pills(OPTS["wait"]["question"], list(buckets), "wait_bucket", survey.wait_bucket, fmt=buckets.get)
    pills(OPTS["field_question"], list(s["fields"]), "field", survey.field)
    if s["staff"]:
        names = dict(s["staff"])
        options = list(names) + [""]
        fmt = lambda code: names.get(code, OPTS["staff_unknown"])  # noqa: E731
        current = survey.staff_code if survey.staff_code else None
        pills(OPTS["staff_question"], options, "staff_code", current, fmt=fmt)


def comment_screen() -> None:
    s = state()
    survey: KioskSurvey = s["survey"]
    key = f"w:{survey.token}:comment"
    st.text_area(
        OPTS["comment_question"],
        value=survey.comment or "",
        max_chars=2000,
        key=key,
        on_change=set_answer,
        args=(key, "comment"),
        placeholder="Nhập góp ý (không bắt buộc)",
    )
    exp = OPTS["expectations"]
    key_exp = f"w:{survey.token}:expectations"
    st.pills(
        exp["question"],
        exp["options"],
        selection_mode="multi",
        default=survey.expectations or [],
        key=key_exp,
        on_change=limit_expectations,
        args=(key_exp,),
        width="stretch",
    )
    with st.expander("Thông tin thêm về Ông/Bà (không bắt buộc)"):
        for attr, spec in OPTS["demographics"].items():
            pills(spec["question"], spec["options"], attr, getattr(survey, attr))


def limit_expectations(key: str) -> None:
    value = list(st.session_state.get(key) or [])[:3]
    st.session_state[key] = value
    set_answer(key, "expectations")


def survey_screen() -> None:
    s = state()
    steps = s["steps"]
    step = s["step"]
    kind, code = steps[step]
    st.progress((step + 1) / len(steps), text=f"Bước {step + 1}/{len(steps)}")
    {
        "element": lambda: element_screen(code),
        "overall": overall_screen,
        "context": context_screen,
        "comment": comment_screen,
    }[kind]()
    if s.get("error"):
        st.warning(s["error"])
    last = step == len(steps) - 1
    back, forward = st.columns(2)
    with back:
        if step > 0:
            st.button("◀ Quay lại", width="stretch", on_click=go, args=(-1,), key=f"back{step}")
        else:
            st.button("✕ Hủy", width="stretch", on_click=cancel, key="cancel")
    with forward:
        if last:
            st.button("Gửi đánh giá ✔", type="primary", width="stretch", on_click=submit, key="submit")
        else:
            st.button("Tiếp tục ▶", type="primary", width="stretch", on_click=go, args=(1,), key=f"next{step}")

    @st.fragment(run_every=5)
    def idle_watch() -> None:
        if abandon_if_idle():
            st.rerun()

    idle_watch()


def cancel() -> None:
    state().clear()
    state()["phase"] = "welcome"


def thanks_screen() -> None:
    st.title("Cảm ơn Ông/Bà!")
    st.markdown("Ý kiến của Ông/Bà đã được ghi nhận. Chúc Ông/Bà một ngày tốt lành.")

    @st.fragment(run_every=1)
    def countdown() -> None:
        s = state()
        left = s.get("thanks_until", 0) - time.monotonic()
        if left <= 0:
            s.clear()
            s["phase"] = "welcome"
            st.rerun()
        st.caption(f"Màn hình sẽ trở về trang đầu sau {int(left) + 1} giây.")

    countdown()
    st.button("Về trang đầu", on_click=cancel, key="home")


def render() -> None:
    ui.kiosk_style()
    s = state()
    if s["phase"] == "survey":
        survey_screen()
    elif s["phase"] == "thanks":
        thanks_screen()
    else:
        welcome()


try:
    render()
except (SipasError, Exception):  # never a traceback on the citizen's tablet
    log.exception("kiosk page failed")
    st.session_state.pop("kiosk", None)
    st.info("Hệ thống khảo sát đang tạm dừng. Xin Ông/Bà vui lòng báo cán bộ tại quầy. Xin cảm ơn!")
