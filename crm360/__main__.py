"""`python -m crm360 backtest --db PATH --calibration-end DATE [--holdout-end DATE] [--json]`
`python -m crm360 outreach --out FILE.csv|FILE.xlsx [--db PATH] [--campaigns PATH] [--reason CODE ...]`
`python -m crm360 users add NAME --role agent|marketing|service_lead|executive|admin [--password-stdin]`
`python -m crm360 users list [--all] | password NAME | role NAME ROLE | remove NAME | restore NAME | demo`
`python -m crm360 audit verify [--store PATH]`
`python -m crm360 changes --since CURSOR --out FILE.jsonl [--store PATH]`

backtest:

Fits the purchase (BG/NBD) and spend (Gamma-Gamma) models on the purchases up to the
calibration end and prints their parameters, log-likelihoods and convergence, then the forecast
against the actual cumulative repeat purchases for each week of the holdout (default: to the
newest event in the data), and the same by how many repeat purchases customers had made.

outreach:
Writes the outreach list (the `outreach_candidates` mart, highest priority first) as a CSV or
Excel file, with the same contact-pressure hold as the page: customers contacted in a campaign
in the last 14 days are left out. For scheduled exports to a dialler or a mailing tool.

changes:
Writes every change agents made at the desk (calls, follow-up tasks, complaints, consent) after a
cursor, in order, as JSON Lines: a first line {"since": ..., "next_cursor": ..., "changes": ...},
then one change per line. The same cursor gives the same file until agents write more; pass the
file's next_cursor the next time. For the helpdesk or CRM of record to take the changes in.
"""
from __future__ import annotations

import argparse
import getpass
import json
import sqlite3
import sys
from datetime import date
from pathlib import Path

import duckdb

from crm360 import access, audit, campaigns, cli, clock, config, desk, export, private_files
from crm360.audit import AuditLog
from crm360.models import backtest
from crm360.outreach_rules import RULE_BY_CODE
from crm360.queries import outreach
from crm360.store import Database, NoDatabase


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"“{text}” is not a date (YYYY-MM-DD)") from error


def main(argv: list[str] | None = None) -> int:
    parser = cli.Parser(prog="python -m crm360", description=__doc__,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("backtest", help="fit on a calibration period, compare with the holdout")
    run.add_argument("--db", type=Path, required=True, help="a database published by the ETL")
    run.add_argument("--calibration-end", type=_date, required=True, help="last day of the calibration period")
    run.add_argument("--holdout-end", type=_date, help="last day of the holdout (default: the newest event)")
    run.add_argument("--json", action="store_true", help="print JSON instead of tables")
    listing = commands.add_parser("outreach", help="write the outreach list as CSV or Excel")
    listing.add_argument("--out", type=Path, required=True, help="the file to write: .csv or .xlsx")
    listing.add_argument("--db", type=Path, help="the published database (default: CRM_DB or data/crm.duckdb)")
    listing.add_argument("--campaigns", type=Path, help="an existing campaign store (default: beside the database)")
    listing.add_argument("--reason", action="extend", nargs="+", default=[], choices=sorted(RULE_BY_CODE),
                         metavar="CODE", help="only customers with one of these reasons (several after one "
                         f"--reason, or --reason repeated): {', '.join(sorted(RULE_BY_CODE))}")
    users = commands.add_parser("users", help="manage who may sign in (users.sqlite beside the database)")
    users.add_argument("--store", type=Path, help="the user store (default: CRM_USERS or beside the database)")
    actions = users.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add a user; prints a new password once unless one is piped in")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=access.ROLES)
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    password = actions.add_parser("password", help="give a user a new password (printed once)")
    password.add_argument("name")
    password.add_argument("--password-stdin", action="store_true")
    role = actions.add_parser("role", help="change a user's role")
    role.add_argument("name")
    role.add_argument("role", choices=access.ROLES)
    remove = actions.add_parser("remove", help="remove a user (kept in the audit log's history)")
    remove.add_argument("name")
    restore = actions.add_parser("restore", help="bring back a removed user with their role; prints a new password "
                                 "once unless one is piped in")
    restore.add_argument("name")
    restore.add_argument("--password-stdin", action="store_true")
    users_list = actions.add_parser("list", help="list the users and their roles")
    users_list.add_argument("--all", action="store_true", help="removed users too, marked as removed")
    actions.add_parser("demo", help="one user per role for the demo, passwords printed once (if none exist yet)")
    _add_audit_command(commands)
    handoff = commands.add_parser("changes", help="write the desk's changes since a cursor as JSON Lines")
    handoff.add_argument("--since", type=cli.whole_number(0), required=True,
                         help="the cursor to start after (0: from the beginning; else the last file's next_cursor)")
    handoff.add_argument("--out", type=Path, required=True, help="the .jsonl file to write")
    handoff.add_argument("--store", type=Path, help="the desk store (default: CRM_DESK or beside the database)")
    args = parser.parse_args(argv)
    if args.command == "changes":
        return _write_changes(args)
    if args.command == "audit":
        return _verify_audit(args)
    if args.command == "outreach":
        return _write_outreach(args)
    if args.command == "users":
        try:
            return _manage_users(args)
        except (audit.AuditUnavailable, sqlite3.Error) as error:
            print(f"users: the audit log: {error}", file=sys.stderr)
            return 1
    try:
        con = duckdb.connect(str(args.db), read_only=True)
    except duckdb.Error as error:
        print(f"backtest: cannot open {args.db}: {error}", file=sys.stderr)
        return 1
    try:
        holdout_end = args.holdout_end or con.execute("SELECT data_as_of FROM dataset_info").fetchone()[0].date()
        result = backtest.run(con, args.calibration_end, holdout_end)
    except (duckdb.Error, ValueError) as error:
        print(f"backtest: {error}", file=sys.stderr)
        return 1
    finally:
        con.close()
    print(json.dumps(_as_dict(result), indent=2, default=str) if args.json else _as_text(result))
    return 0 if result.models.purchases.converged else 2


def _write_outreach(args: argparse.Namespace) -> int:
    if args.out.suffix.lower() not in (".csv", ".xlsx"):
        print(f"outreach: {args.out} must end in .csv or .xlsx", file=sys.stderr)
        return 1
    if args.campaigns is not None and not args.campaigns.is_file():  # an empty store would hold back nobody
        state = "a folder, not a file" if args.campaigns.is_dir() else "no such file"
        return cli.fail("outreach", f"--campaigns {args.campaigns}: {state} (the campaigns.sqlite the app writes "
                        "beside the database; leave --campaigns out to use that one)")
    try:
        cli.writable_file(args.out, "--out")  # before anything is read or recorded
    except cli.CommandError as error:
        return cli.fail("outreach", error)
    db = Database(args.db or config.db_path())
    try:
        now = clock.now(db)  # first: no campaign store is made beside a database that is not there
        store = cli.open_store(campaigns.CampaignStore, args.campaigns or (
            db.published.with_name("campaigns.sqlite") if args.db else campaigns.store_path()), "campaign store")
        log = cli.open_store(AuditLog, audit.store_path(db.published), "audit log")  # before any file is written
        chosen = outreach.CandidateFilter(rules=tuple(args.reason), held_back=store.held_back(now))
        listed = outreach.candidates(db, chosen, limit=None)
        held_back = outreach.held_back_count(db, chosen)
        stamp = (f"{getpass.getuser()} (command line)", clock.wall().isoformat(timespec="seconds"))
        contents = (export.to_xlsx(listed, stamp=stamp) if args.out.suffix.lower() == ".xlsx"
                    else export.to_csv(listed, stamp))
        # Recorded before the file is written: no file leaves that the audit log could not record.
        log.record(
            stamp[0], "command line", "export", page="outreach command", customer_ids=listed["customer_id"].to_list(),
            rows=listed.height, file=str(args.out), filters={"rules": list(args.reason)})
        private_files.private_file(args.out).write_bytes(contents)  # personal data: its owner reads it, no one else
    except OSError as error:
        return cli.fail("outreach", f"{error.filename or args.out}: {cli.os_reason(error)}")
    except (NoDatabase, duckdb.Error, sqlite3.Error, audit.AuditUnavailable, export.ExportTooLarge,
            cli.CommandError) as error:
        return cli.fail("outreach", error)
    finally:
        db.close()
    print(f"{listed.height:,} customers written to {args.out}; {held_back:,} held back "
          f"(contacted in a campaign in the last {config.CONTACT_PRESSURE_DAYS} days).")
    return 0


def _write_changes(args: argparse.Namespace) -> int:
    path = args.store or desk.store_path()
    try:
        if args.out.suffix.lower() != ".jsonl":  # a typo must not replace a store (users.sqlite, audit.sqlite)
            raise cli.CommandError(f"--out {args.out} must end in .jsonl")
        cli.writable_file(args.out, "--out")
        if not path.is_file():  # an empty store made here would say "no changes" when the path is wrong
            state = "a folder, not a file" if path.is_dir() else "no such file"
            raise cli.CommandError(f"desk store {path}: {state} (the desk.sqlite the app writes beside the database)")
        store = cli.open_store(desk.DeskStore, path, "desk store")
        last = store.last_cursor()
        if args.since > last:
            raise cli.CommandError(f"--since {args.since}: the desk's change log ends at {last}; "
                                   "use a cursor a file of this store gave")
        # The installation's own audit log, wherever --store points (a copy must not take the record elsewhere).
        log = cli.open_store(AuditLog, audit.store_path(), "audit log")  # before any file is written
        rows, next_cursor = store.changes(args.since)
        lines = [json.dumps({"since": args.since, "next_cursor": next_cursor, "changes": len(rows)})]
        # Recorded before the file is written, like every export: the hand-off carries notes and consent.
        log.record(f"{getpass.getuser()} (command line)", "command line", "export", page="changes command",
                   customer_ids=sorted({row["customer_id"] for row in rows}), rows=len(rows), file=str(args.out),
                   since=args.since, next_cursor=next_cursor)
        lines += [json.dumps(row, ensure_ascii=False, sort_keys=True) for row in rows]
        temporary = args.out.with_name(f".{args.out.name}.partial")
        private_files.private_file(temporary).write_text("\n".join(lines) + "\n", encoding="utf-8")
        temporary.replace(args.out)  # whole or not at all: a reader never sees half a hand-off
    except OSError as error:
        return cli.fail("changes", f"{error.filename or args.out}: {cli.os_reason(error)}")
    except (cli.CommandError, sqlite3.Error, desk.DeskError, audit.AuditUnavailable) as error:
        return cli.fail("changes", error)
    print(f"{len(rows):,} changes after cursor {args.since} written to {args.out}; next cursor: {next_cursor}")
    return 0


def _manage_users(args: argparse.Namespace) -> int:
    try:
        store = cli.open_store(access.UserStore, args.store or access.store_path(), "user store")
        log = cli.open_store(AuditLog, audit.store_path(args.store) if args.store else audit.store_path(), "audit log")
    except cli.CommandError as error:
        return cli.fail("users", error)
    by = f"{getpass.getuser()} (command line)"
    try:
        if args.action == "list":
            for name, role, created in store.users():
                print(f"{name:<24} {role:<10} since {created}")
            for name, role, created in store.removed_users() if args.all else ():
                print(f"{name:<24} {role:<10} since {created}  (removed: `users restore {name}` brings them back)")
            return 0
        if args.action == "demo":
            return _demo_users(store, log, by)
        given = sys.stdin.readline().rstrip("\n") if getattr(args, "password_stdin", False) else None
        if args.action == "add":
            made = store.add(args.name, args.role, given)
            print(f"added {args.name.strip().lower()} ({args.role})" + ("" if given else f"; password: {made}"))
        elif args.action == "password":
            made = store.set_password(args.name, given)
            print(f"new password for {args.name}" + ("" if given else f": {made}"))
        elif args.action == "restore":
            made = store.restore(args.name, given)
            print(f"restored {args.name.strip().lower()}" + ("" if given else f"; new password: {made}"))
        elif args.action == "role":
            was = store.set_role(args.name, args.role)
            print(f"{args.name} is now {args.role} (was {was})")
        else:
            store.remove(args.name)
            print(f"removed {args.name}")
    except access.RemovedUserError as error:
        return cli.fail("users", f"{error.user_name!r} belongs to a removed user: `python -m crm360 users restore "
                                 f"{error.user_name}` brings them back (`users list --all` shows them)")
    except access.AccessError as error:
        return cli.fail("users", error)
    log.record(by, "command line", "user_change", page="users command", change=args.action,
               user_changed=args.name.strip().lower(), new_role=getattr(args, "role", None))
    return 0


def _add_audit_command(commands: argparse._SubParsersAction) -> None:
    checks = commands.add_parser("audit", help="check the audit log").add_subparsers(dest="action", required=True)
    verify = checks.add_parser("verify", help="walk the audit log's hash chain; says where it breaks (exit 1)")
    verify.add_argument("--store", type=Path, help="the audit log (default: CRM_AUDIT or beside the database)")


def _verify_audit(args: argparse.Namespace) -> int:
    """Exit 0 when every entry checks out, 1 (with the entry and what is wrong) when not."""
    path = args.store or audit.store_path()
    if not path.is_file():
        print(f"audit: no audit log at {path}" + (f" ({audit.missing_message(path)})"
                                                  if audit.key_path(path).exists() else ""), file=sys.stderr)
        return 1
    try:
        log = AuditLog(path)
        chain = log.verify()
        notes = log.notes()
    except (audit.AuditUnavailable, sqlite3.Error) as error:
        print(f"audit: {path}: {error}", file=sys.stderr)
        return 1
    for note in notes:
        print(f"note: {note}")
    if cut := [note for note in notes if note.endswith(audit.CUT_NOTE)]:
        print(f"audit: {path}: a running app found entries it had seen gone ({len(cut)} time(s), notes above): the "
              "chain that is left checks out, but entries were removed.", file=sys.stderr)
        return 1
    if not chain.intact:
        print(f"audit: {path}: {chain.summary}; the {chain.entries:,} entries before it check out.", file=sys.stderr)
        return 1
    print(f"{path}: chain intact, {chain.entries:,} entries" +
          (f", the last is entry {chain.last_id} (hash {chain.last_hash[:16]})." if chain.entries else "."))
    return 0


DEMO_USERS = {"agent": "agent", "marketing": "marketing", "service_lead": "service_lead", "executive": "executive",
              "admin": "admin"}


def _demo_users(store: access.UserStore, log: AuditLog, by: str) -> int:
    """One user per role, named after it; their passwords are printed this once."""
    existing = {name for name, _, _ in store.users()}
    if existing:
        print(f"users: {len(existing)} users exist already ({', '.join(sorted(existing))}); no demo users made. "
              "`python -m crm360 users password NAME` gives one a new password.")
        return 0
    print("Demo users (the passwords are shown only now; sign in with one of them):")
    for name, role in DEMO_USERS.items():
        print(f"  {name:<13} {role:<13} password: {store.add(name, role)}")
        log.record(by, "command line", "user_change", page="users command", change="demo", user_changed=name,
                   new_role=role)
    return 0


def _as_dict(result: backtest.Backtest) -> dict:
    fits = {name: {"params": fit.params, "log_likelihood": fit.log_likelihood, "converged": fit.converged,
                   "iterations": fit.iterations, "message": fit.message, "customers": fit.customers,
                   "seconds": fit.seconds}
            for name, fit in (("bg_nbd", result.models.purchases), ("gamma_gamma", result.models.spend))}
    return {"calibration_end": result.models.cutoff, "holdout_end": result.holdout_end, "fits": fits,
            "errors": result.errors(), "weekly": result.weekly.to_dicts(),
            "by_calibration_repeat_purchases": result.by_frequency.to_dicts()}


def _as_text(result: backtest.Backtest) -> str:
    lines = [f"calibration to {result.models.cutoff}, holdout to {result.holdout_end} ({result.holdout_weeks} weeks)"]
    for name, fit in (("BG/NBD", result.models.purchases), ("Gamma-Gamma", result.models.spend)):
        params = ", ".join(f"{k} = {v:.4g}" for k, v in fit.params.items())
        lines.append(f"{name}: {params}; log-likelihood {fit.log_likelihood:,.2f}; "
                     f"{'converged' if fit.converged else 'DID NOT CONVERGE'} ({fit.message}); "
                     f"{fit.customers:,} customers, {fit.seconds:.2f} s")
    if result.weekly.is_empty():
        lines.append("no forecast: the purchase model did not converge or the holdout is under a week")
        return "\n".join(lines)
    lines.append("\nweek  predicted cumulative  actual cumulative  error")
    for week, predicted, actual in result.weekly.iter_rows():
        error = f"{(predicted - actual) / actual:+.1%}" if actual else "—"
        lines.append(f"{week:4d}  {predicted:20,.1f}  {actual:17,.0f}  {error:>6}")
    lines.append("\nrepeat purchases before the cut-off  customers  predicted mean  actual mean")
    for group, customers, predicted, actual in result.by_frequency.iter_rows():
        label = f"{group}+" if group == backtest.FREQUENCY_GROUPS else str(group)
        lines.append(f"{label:>35}  {customers:9,d}  {predicted:14.3f}  {actual:11.3f}")
    errors = result.errors()
    lines.append(f"\ntotal: predicted {errors['predicted_total']:,.0f}, actual {errors['actual_total']:,.0f} "
                 f"({errors['total_error_share']:+.1%}); mean absolute error over the groups "
                 f"{errors['group_mean_absolute_error']:.3f} purchases per customer")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
