#!/usr/bin/env bash
# Check the trust boundary of a running `make run` (issue 13's "done when"), from outside:
#   ./scripts/check-trust-boundary.sh            (default ports; set WEB_PORT etc. if changed)
# Prints one line per check and exits non-zero if any fails.
set -u
HOST=${HOST:-127.0.0.1}
RASA_PORT=${RASA_PORT:-5005}
ACTION_PORT=${ACTION_PORT:-5055}
WEB_PORT=${WEB_PORT:-8080}
WEB="http://$HOST:$WEB_PORT"
failed=0
check() {  # check "what" <command that succeeds when it holds>
  if eval "$2" >/dev/null 2>&1; then echo "ok    $1"; else echo "FAIL  $1"; failed=1; fi
}
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

check "action server refuses a call without the secret (401)" \
  "[ \"\$(code -X POST -H 'Content-Type: application/json' -d '{\"next_action\":\"action_change_address\",\"tracker\":{\"sender_id\":\"x\"}}' http://$HOST:$ACTION_PORT/webhook)\" = 401 ]"
check "no project server listens on 0.0.0.0 or [::] (ss -ltn)" \
  "! ss -ltn | awk '{print \$4}' | grep -E '^(0\\.0\\.0\\.0|\\[::\\]|\\*):($RASA_PORT|$ACTION_PORT|$WEB_PORT)\$'"
session=$(curl -s -X POST -H 'Content-Type: application/json' -d '{}' "$WEB/api/chat/session")
sid=$(printf '%s' "$session" | python3 -c 'import json,sys; print(json.load(sys.stdin)["session_id"])')
check "a stranger cannot fetch a transcript (401)" \
  "[ \"\$(code $WEB/api/conversations/$sid/messages)\" = 401 ]"
last=""
for _ in $(seq 30); do
  last=$(code -X POST -H 'Content-Type: application/json' -H "Origin: $WEB" \
    -d '{"username":"nobody-here","password":"wrong-password"}' "$WEB/api/console/login")
done
check "30 wrong passwords in a row are throttled (429 at the end)" "[ \"$last\" = 429 ]"
head -c 2097152 /dev/zero | tr '\0' 'a' > /tmp/two-megabytes.json
check "a 2 MB body gets 413" \
  "[ \"\$(code -X POST -H 'Content-Type: application/json' -H 'Origin: $WEB' --data-binary @/tmp/two-megabytes.json $WEB/api/console/login)\" = 413 ]"
rm -f /tmp/two-megabytes.json
headers=$(curl -s -D - -o /dev/null "$WEB/")
for h in content-security-policy x-content-type-options referrer-policy x-frame-options; do
  check "the chat page carries $h" "printf '%s' \"\$headers\" | grep -qi '^$h:'"
done
check "the CSP has no unsafe-inline" "! printf '%s' \"\$headers\" | grep -i '^content-security-policy:' | grep -q unsafe-inline"
exit $failed
