"""`massgen-skill review show|approve|reject [RUN]`: a human's decision on the team's file changes."""

from __future__ import annotations

import argparse
import sys

from massgen_skill.commands._common import add_run_argument, project_dir, seconds, seconds_or_zero
from massgen_skill.exitcodes import ExitCode
from massgen_skill.output import print_json
from massgen_skill.review.block import (
    CONTENT_PREFIX,
    DIFF_END,
    DIFF_LINES,
    PREVIEW_CHARS,
    bounded_diff,
    clean_field,
    diff_block,
)
from massgen_skill.review.gate import (
    CONFIRM_TIMEOUT,
    MASSGEN_REVIEW_TIMEOUT,
    Connection,
    PendingReview,
    check_files,
    check_landed,
    connect,
    decision_body,
    find_pending,
    send_and_confirm,
)
from massgen_skill.review.http import HTTP_TIMEOUT
from massgen_skill.review.target import resolve_target

EPILOG = f"""\
Only for a human's decision: show the pending changes, ask the user, then send exactly what they said.
The server is found from the run record's port (massgen's own files always say localhost:8000), or --url;
only loopback addresses are contacted (127.0.0.0/8, ::1, localhost) unless --allow-remote.
After sending, the outcome is confirmed from massgen's review_result.json (the server says "ok" even when
nothing is pending) and reported: approved or rejected, and which files land in the project.
`show` prints the diff only between `DIFF: (…)` and `{DIFF_END}`, every line of it starting with
`{CONTENT_PREFIX}`; line breaks other than \\n and control characters inside it appear as escapes (\\r,
\\x1b, \\u2028). Each HTTP request has one deadline for the whole exchange (--http-timeout).

exit codes: 0 done · 12 no such run/log dir · 13 server unreachable or too slow · 14 server error or
non-JSON answer · 15 no review pending (already decided, timed out after {MASSGEN_REVIEW_TIMEOUT} s, or never
opened) · 16 refused (a file not in the review, a non-loopback URL) · 2 usage

examples:
  massgen-skill review show
  massgen-skill review show 20261125-101500-ab12cd --full
  massgen-skill review approve
  massgen-skill review approve --files src/a.py src/b.py
  massgen-skill review approve 20261125-101500-ab12cd --files src/a.py      (RUN before --files)
  massgen-skill review reject --feedback "keep the old API"
  massgen-skill review show .massgen/massgen_logs/log_20261125_101500_123456 --url http://127.0.0.1:8123
"""


def _common(sub: argparse.ArgumentParser) -> None:
    which = "run id (or prefix), record path, massgen's LOG_DIR, or 'latest' (default)"
    add_run_argument(sub, metavar="RUN|LOG_DIR", what=which)
    server = "review server, e.g. http://127.0.0.1:8123 (default: from the run)"
    sub.add_argument("--url", metavar="URL", help=server)
    sub.add_argument("--allow-remote", action="store_true", help="allow a review server that is not loopback")
    deadline = f"the whole of each request, connect to last byte ({HTTP_TIMEOUT:g})"
    sub.add_argument("--http-timeout", type=seconds, default=HTTP_TIMEOUT, metavar="S", help=deadline)


def _decision(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--feedback", metavar="TEXT", help="a note for the team, sent with the decision")
    wait = f"wait this long for massgen's review_result.json ({CONFIRM_TIMEOUT:g})"
    sub.add_argument(
        "--confirm-timeout", type=seconds_or_zero, default=CONFIRM_TIMEOUT, metavar="S", help=wait
    )


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    subs = parser.add_subparsers(dest="action", metavar="show|approve|reject", required=True)
    fmt = argparse.RawDescriptionHelpFormatter
    show = subs.add_parser("show", help="changed files and their diff", epilog=EPILOG, formatter_class=fmt)
    _common(show)
    show.add_argument(
        "--full", action="store_true", help=f"the whole diff (default: the first {DIFF_LINES} lines)"
    )
    approve = subs.add_parser(
        "approve", help="apply all changes, or only --files", epilog=EPILOG, formatter_class=fmt
    )
    _common(approve)
    only = "approve only these (each must be a file of the pending review; the rest is discarded)"
    approve.add_argument("--files", nargs="+", action="extend", metavar="PATH", help=only)
    _decision(approve)
    reject = subs.add_parser("reject", help="discard every change", epilog=EPILOG, formatter_class=fmt)
    _common(reject)
    _decision(reject)


def _show(conn: Connection, pending: PendingReview, args: argparse.Namespace) -> int:
    files = [{"path": f.path, "status": f.status, "context": f.context} for f in pending.files]
    if args.json:
        lines, total = bounded_diff(pending.diff, args.full)
        print_json(
            {
                "ok": True,
                "review_pending": True,
                "run_id": conn.target.record.run_id if conn.target.record else None,
                "session_id": pending.session_id,
                "review_url": pending.url,
                "files": files,
                "answer_preview": clean_field(pending.answer, PREVIEW_CHARS),
                "diff": "\n".join(lines),
                "diff_lines": total,
                "diff_truncated": len(lines) < total,
            }
        )
        return int(ExitCode.OK)
    out = [
        f"REVIEW: pending (session {clean_field(pending.session_id, 100)})",
        f"REVIEW_URL: {pending.url}",
        f"FILES_CHANGED: {len(files)}",
        *(f"  {clean_field(f['status'], 3):<2} {clean_field(f['path'], 300)}" for f in files),
        f"ANSWER_PREVIEW: {clean_field(pending.answer, PREVIEW_CHARS)}",
        *diff_block(pending.diff, args.full),
        "DECIDE: ask the user; then `review approve`, `review approve --files …` or `review reject`",
    ]
    sys.stdout.write("\n".join(out) + "\n")
    return int(ExitCode.OK)


def _decide(conn: Connection, pending: PendingReview, args: argparse.Namespace) -> int:
    approve = args.action == "approve"
    chosen = check_files(pending, args.files) if approve and args.files else None
    body = decision_body(approve, chosen, args.feedback)
    landed = send_and_confirm(conn, pending, body, args.confirm_timeout)
    check_landed(landed, body)
    if args.json:
        print_json(
            {
                "ok": True,
                "run_id": conn.target.record.run_id if conn.target.record else None,
                "session_id": pending.session_id,
                "sent": body,
                "landed": landed.as_dict(),
            }
        )
        return int(ExitCode.OK)
    names = ", ".join(clean_field(f, 300) for f in landed.files)
    if approve:
        what = f"approve {', '.join(chosen)}" if chosen else f"approve all ({len(pending.files)} files)"
    else:
        what = "reject"
    out = [f"DECISION: {clean_field(what, 2000)}"]
    if args.feedback:
        out.append("FEEDBACK: sent")
    if landed.approved:
        out.append(f"RESULT: approved; applied to the project: {names or '(no files)'}")
    else:
        out.append("RESULT: rejected; nothing was applied")
    sys.stdout.write("\n".join(out) + "\n")
    return int(ExitCode.OK)


def run(args: argparse.Namespace) -> int:
    target = resolve_target(args.run_ref, project_dir(args))
    conn = connect(target, args.url, args.allow_remote, args.http_timeout)
    try:
        pending = find_pending(conn, args.url)
        if args.action == "show":
            return _show(conn, pending, args)
        return _decide(conn, pending, args)
    finally:
        conn.client.close()
