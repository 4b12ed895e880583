#!/bin/sh
# Send the alerts of one ledger by mail, or to a webhook, only when there are any.
#
#   invctl-alerts.sh LEDGER [more `invctl alerts` options, e.g. --severity warning]
#
# Runs `invctl -L LEDGER alerts --new`, so each problem is sent once, and again when it
# gets worse (docs/alerts.md). Nothing is sent when invctl prints nothing. What --new
# remembers is kept only once the message went out: when mail or curl fails, the next
# run sends the same alerts again (and this script exits 1, so cron reports the failure).
#
# Environment:
#   INVCTL          the invctl to run (default: `invctl` on PATH; cron's PATH is short,
#                   so give the full path, e.g. /opt/invctl/bin/invctl)
#   ALERTS_MAILTO   mail the alerts to this address with mail(1) ...
#   ALERTS_WEBHOOK  ... or POST them to this URL with curl, as plain text
#                   (neither: print them, and cron mails them to its MAILTO)
#   ALERTS_SUBJECT  the mail subject (default: "invctl alerts: LEDGER")
#   ALERTS_STATE    what --new remembers (default: LEDGER/.invctl/alerts.json); give each
#                   job with other options its own file
set -u

if [ $# -lt 1 ]; then
    echo "usage: $0 LEDGER [invctl alerts options...]" >&2
    exit 2
fi
ledger=$1
shift
invctl=${INVCTL:-invctl}
state=${ALERTS_STATE:-$ledger/.invctl/alerts.json}
sending=$state.sending

# Work on a copy of the memory; it replaces the real one only when nothing is lost.
mkdir -p "$(dirname "$state")" || exit 1
rm -f "$sending"
if [ -f "$state" ]; then
    cp -p "$state" "$sending" || exit 1
fi

out=$("$invctl" -L "$ledger" alerts --new --state "$sending" "$@" 2>&1)
status=$?

if [ -z "$out" ]; then  # nothing to say (problems that went away are forgotten)
    [ -f "$sending" ] && mv -f "$sending" "$state"
    exit "$status"
fi

subject=${ALERTS_SUBJECT:-"invctl alerts: $ledger"}
case $out in
    error:* | Usage:*) subject="invctl alerts FAILED: $ledger" ;;
esac

if [ -n "${ALERTS_WEBHOOK:-}" ]; then
    printf '%s\n' "$out" | curl -fsS -m 60 -H 'Content-Type: text/plain; charset=utf-8' \
        --data-binary @- "$ALERTS_WEBHOOK" >/dev/null
    sent=$?
elif [ -n "${ALERTS_MAILTO:-}" ]; then
    printf '%s\n' "$out" | mail -s "$subject" "$ALERTS_MAILTO"
    sent=$?
else
    printf '%s\n' "$out"
    sent=0
fi

if [ "$sent" -ne 0 ]; then
    rm -f "$sending"
    echo "invctl-alerts.sh: could not send the alerts of $ledger; they will be sent again next time" >&2
    exit 1
fi
[ -f "$sending" ] && mv -f "$sending" "$state"
exit 0
