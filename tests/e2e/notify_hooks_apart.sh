#!/usr/bin/env bash
# Hooks apart (docs/operations.md, "Webhooks", "A full queue"): a receiver
# that is down fills only its own hook's queue.  A chat bridge that refuses
# every connection keeps its deliveries pending; with notify.queue_max = 2
# its backlog reaches the cap, and the dispatcher's hook, whose receiver
# answers and has nothing waiting, still gets the next major hazard: it is
# queued and delivered, not dropped because of another hook's backlog.
source "$(dirname "$0")/cli_common.bash"
source "$(dirname "$0")/notify_common.bash"

make_register
start_receiver 0
# A port nothing listens on: every attempt of the chat hook is refused at once.
DOWN_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
chat_ops_conf "http://127.0.0.1:$DOWN_PORT/chat" 2 "notify.hook.chat.events = finding.major_hazard" \
  "notify.hook.ops.events = finding.major_hazard" "notify.retry_base_ms = 200" \
  "notify.retry_max_s = 1" "notify.queue_max = 2"
start_syncd --config "$TMP/syncd.conf"
enroll inspector inspector
sync_ok inspector

state_of() { nlog "[.[] | select(.hook == \"$1\" and .payload.entity == \"$2\") | .state] | join(\" \")"; }

F1=$(submitted_finding inspector "燃气管道老化" major --category GAS --deadline "$(day 9)")
sync_ok inspector
wait_until "the first major hazard at the dispatcher" is_delivered finding.major_hazard "$F1"
F2=$(submitted_finding inspector "消防通道堵塞" major --category FIRE --deadline "$(day 9)")
sync_ok inspector
F3=$(submitted_finding inspector "配电箱未上锁" major --category POWER --deadline "$(day 9)")
sync_ok inspector
expect_eq "$(state_of chat "$F1") $(state_of chat "$F2")" "pending pending" \
          "the chat hook's backlog, at notify.queue_max"
expect_eq "$(state_of chat "$F3")" dropped "the chat hook's event past its cap"
[[ $(state_of ops "$F2") != dropped ]] ||
  fail "the dispatcher's major hazard was dropped for the chat hook's backlog"
wait_until "the second major hazard at the dispatcher" is_delivered finding.major_hazard "$F2"
wait_until "the third major hazard at the dispatcher" is_delivered finding.major_hazard "$F3"
expect_eq "$(nlog '[.[] | select(.hook == "ops") | .state] | unique | join(" ")')" delivered \
          "the dispatcher's deliveries"
echo "ok: a receiver that is down fills only its own hook's queue"
