#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# `kubetape replay` on a real terminal (tmux), against what tmux showed live.
#
# A bash session in the fake pod (`ctr task exec --tty`, what kubectl exec
# -it ends as on a node) runs inside a tmux pane while the real recorder
# records it: commands, colours, a clear, a resize, a long pause.  The pane's
# screen at the end (capture-pane) is the reference.  Then:
#   - `kubetape replay ID --speed 1000` in a pane of the final size must end
#     on the same screen (text, and with -e the attributes);
#   - keys driven with send-keys: pause holds the screen and space resumes,
#     '.' steps, ']' jumps to the next command, Left/Right seek 10 s;
#   - the terminal is restored (echo, canonical mode, output processing) after
#     q, SIGTERM and Ctrl-Z.
# Needs root, BPF, containerd (fakepod) and tmux; FAILs (never skips) without.
# its own pod dir: another e2e test may have the shared one up
export KT_E2E_FAKEPOD_DIR=${KT_E2E_FAKEPOD_DIR:-/tmp/kubetape-e2e-fakepod-replay}
# and its own pod name: the recorder sees every exec on the node, so the
# session is picked by pod (another test may be recording at the same time)
export FAKEPOD_POD=replay-tmux-$$
. "$(dirname "$0")/../lib/common.sh"

require_root
require_containerd
require_bpf
require_cmd tmux python3
require_built "$KT_OUT/kubetape-recorder" "$KT_OUT/kubetape"

KTB="$KT_OUT/kubetape"
KT="$KTB --db $KT_TMP/kt.db"
SOCK="kt-e2e-$$"
tm() { tmux -L "$SOCK" -f /dev/null "$@"; }
cap() { tm capture-pane -p -t "$1"; }
pane_has() { cap "$1" | grep -qF -- "$2"; }
pane_line() { cap "$1" | grep -qx -- "$2"; }	# a whole line equals TEXT
pane_lacks() { ! pane_has "$1" "$2"; }
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); $2" "$@"; }
show_pane() { echo "----- pane $1" >&2; cap "$1" | cat -A | sed 's/^/  /' >&2; echo "-----" >&2; }

# ------------------------------------------------------------------ pod + recorder
step_start
pod_up pod_up
start_recorder recorder_start "$KT_TMP/kt.db" "$KT_TMP/recorder.log" --node-name e2e-node
at_exit "tmux -L $SOCK kill-server 2>/dev/null"
pass pod_and_recorder

# ------------------------------------------------------------------ the live session
# Each step waits for its output, so the recording has the same pauses.
step_start
# sleep after it: the pane must stay, unchanged, once bash exits
tm new-session -d -s live -x 100 -y 30 "$FAKEPOD exec-tty bash; exec sleep 100000" ||
	fatal live_session "tmux new-session failed"
tm resize-window -t live -x 100 -y 30 2>/dev/null
wait_for 15 pane_has live ':/#' || { show_pane live; fatal live_prompt "no bash prompt in the live pane in 15 s"; }
type_wait() {	# type_wait TEXT WHAT [line|gone]: until WHAT shows (as a line) or is gone
	tm send-keys -t live -l -- "$1"
	sleep 0.2 # typed, then Enter, as a person does
	tm send-keys -t live Enter
	case "${3:-}" in
	line) wait_for 10 pane_line live "$2" ;;
	gone) wait_for 10 pane_lacks live "$2" ;;
	*) wait_for 10 pane_has live "$2" ;;
	esac ||
		{ show_pane live; fatal live_step "no '$2' after typing '$1'"; }
	sleep 0.4 # a human pace: commands are not one burst
}
type_wait 'echo hello-one' hello-one line
type_wait 'printf "\033[1;31mred\033[0m plain \033[4munder\033[0m\n"' "red plain under" line
type_wait 'ls /' usr
type_wait 'seq 1 40' 40 line
# a long pause (a command too): 10 s seeks land inside it
type_wait 'sleep 11' 'sleep 11'
sleep 11.5
wait_for 5 sh -c "tmux -L $SOCK capture-pane -p -t live | tail -n 3 | grep -q ':/#\$'" ||
	{ show_pane live; fatal live_step "no prompt after sleep 11"; }
tm resize-window -t live -x 90 -y 26
sleep 0.5
type_wait 'printf "\033[H\033[2J"' 'sleep 11' gone
sleep 0.5
type_wait 'stty size' '26 90' line
type_wait 'printf "\033[7mrev\033[0m \033[32mgreen\033[0m\n"; echo done-marker' done-marker line
tm send-keys -t live -l -- 'exit'
tm send-keys -t live Enter
wait_for 15 sh -c "$KT sessions --json --pod $POD_NAME --tty | grep -q '\"state\":\"ended\"'" || fatal session_ended "the session did not end in the store within 15 s"
sleep 0.3
cap live >"$KT_TMP/live.txt"
tm capture-pane -p -e -t live >"$KT_TMP/live-e.txt"
$KT sessions --json --pod "$POD_NAME" --tty >"$KT_TMP/sessions.json"
ID=$(json "$KT_TMP/sessions.json" "print([s['id'] for s in d][0])")
$KT show "$ID" --json >"$KT_TMP/show.json"
# 1-based positions in show's timeline
cmdno() { json "$KT_TMP/show.json" "print([i + 1 for i, c in enumerate(d['commands']) if c['argv'][:1] == ['$1']][0])"; }
N_LS=$(cmdno ls) && N_SEQ=$(cmdno seq) && N_STTY=$(cmdno stty) ||
	fatal live_commands "commands missing from the timeline: $(json "$KT_TMP/show.json" "print([c['argv'] for c in d['commands']])")"
echo "# session $ID: ls is command $N_LS, seq $N_SEQ, stty $N_STTY"
pass live_session_recorded

# the recorder's indexer makes the displayed text searchable (colours and
# the reverse video do not split "rev green")
step_start
if wait_for 15 sh -c "$KT search --in screen --pod $POD_NAME 'rev green' 2>/dev/null | grep -q 'final screen'"; then
	$KT search --pod "$POD_NAME" 'seq 1' | sed 's/^/# /'
	pass search_screen_live
else
	$KT search --in screen --pod "$POD_NAME" 'rev green' 2>&1 | sed 's/^/# /'
	fail search_screen_live "'rev green' not found on the session's final screen within 15 s"
fi

# ------------------------------------------------------------------ replay == live
step_start
tm new-session -d -s rp -x 90 -y 26 \
	"$KT replay $ID --speed 1000 2>$KT_TMP/rp.err; echo \$? >$KT_TMP/rp.rc; exec sleep 100000"
tm resize-window -t rp -x 90 -y 26 2>/dev/null
# at the end the replay holds the last frame until q (stdin is the pane)
wait_for 30 sh -c "tmux -L $SOCK capture-pane -p -t rp | cmp -s - $KT_TMP/live.txt" ||
	{ show_pane rp; fatal replay_runs "the replay did not reach the live screen in 30 s"; }
sleep 0.5
cap rp >"$KT_TMP/rp.txt"
tm capture-pane -p -e -t rp >"$KT_TMP/rp-e.txt"
check replay_holds_end "the replay exited at the end instead of waiting for q" test ! -s "$KT_TMP/rp.rc"
tm send-keys -t rp q
wait_for 5 test -s "$KT_TMP/rp.rc" || { show_pane rp; fatal replay_quits "q did not end the replay at its end"; }
check replay_exit0 "replay exited $(cat "$KT_TMP/rp.rc"): $(cat "$KT_TMP/rp.err")" test "$(cat "$KT_TMP/rp.rc")" = 0
if cmp -s "$KT_TMP/live.txt" "$KT_TMP/rp.txt"; then
	pass replay_screen_equals_live
else
	diff "$KT_TMP/live.txt" "$KT_TMP/rp.txt" | head -20 | sed 's/^/# /'
	fail replay_screen_equals_live "capture-pane of the replay differs from the live screen"
fi
if cmp -s "$KT_TMP/live-e.txt" "$KT_TMP/rp-e.txt"; then
	pass replay_attributes_equal_live
else
	diff <(cat -v "$KT_TMP/live-e.txt") <(cat -v "$KT_TMP/rp-e.txt") | head -20 | sed 's/^/# /'
	fail replay_attributes_equal_live "capture-pane -e (colours, attributes) differs"
fi
check replay_size_warning "no warning about the 100x30 recording on a 90x26 pane: $(cat "$KT_TMP/rp.err")" \
	grep -q "this terminal is 90x26 (cols x rows), the session used up to 100x30" "$KT_TMP/rp.err"

# ------------------------------------------------------------------ keys
# An interactive pane of the recording's first size (no size warning).
tm new-session -d -s ia -x 100 -y 30 "env -i PATH=$PATH TERM=screen PS1='$ ' bash --norc --noprofile"
tm resize-window -t ia -x 100 -y 30 2>/dev/null
wait_for 5 pane_line ia '$' || fatal ia_shell "no shell prompt in the interactive pane"
ia_run() { tm send-keys -t ia -l -- "clear; $1; echo EXITED=\$?"; tm send-keys -t ia Enter; }
ia_key() { tm send-keys -t ia "$@"; }
tty_ok() {	# the pane's terminal is back in cooked mode
	rm -f "$KT_TMP/stty.txt"
	tm send-keys -t ia -l -- "stty -a >$KT_TMP/stty.txt; echo typed-\"ok\""
	tm send-keys -t ia Enter
	wait_for 5 pane_line ia "typed-ok" && wait_for 2 test -s "$KT_TMP/stty.txt" &&
		grep -qw icanon "$KT_TMP/stty.txt" && grep -qw echo "$KT_TMP/stty.txt" &&
		grep -qw opost "$KT_TMP/stty.txt" && ! grep -qw -- -icanon "$KT_TMP/stty.txt"
}
quit_replay() { ia_key q; wait_for 5 pane_has ia "EXITED=0"; }

# pause holds the screen; space resumes
step_start
ia_run "$KT replay $ID --from-command $N_SEQ --paused"
if wait_for 10 pane_has ia 'seq 1 40'; then
	sleep 0.2
	cap ia >"$KT_TMP/p1.txt"
	sleep 1.2
	cap ia >"$KT_TMP/p2.txt"
	if cmp -s "$KT_TMP/p1.txt" "$KT_TMP/p2.txt" && pane_lacks ia 'sleep 11'; then
		ia_key Space
		if wait_for 10 pane_has ia 'sleep 11'; then pass pause_holds_space_resumes
		else show_pane ia; fail pause_holds_space_resumes "after space the replay did not go on"; fi
	else
		show_pane ia; fail pause_holds_space_resumes "the screen changed while paused"
	fi
else
	show_pane ia; fail pause_holds_space_resumes "replay --from-command $N_SEQ --paused did not draw the seq command"
fi
quit_replay || fail quit_key "q did not end the replay with status 0"

# '.' steps one frame at a time while paused
step_start
ia_run "$KT replay $ID --from-command $N_SEQ --paused"
wait_for 10 pane_has ia 'seq 1 40' && sleep 0.2
cap ia >"$KT_TMP/s0.txt"
ok=0
for i in $(seq 1 40); do
	ia_key .
	sleep 0.05
	pane_line ia 40 && { ok=1; break; }
done
cap ia >"$KT_TMP/s1.txt"
if [ $ok = 1 ] && ! cmp -s "$KT_TMP/s0.txt" "$KT_TMP/s1.txt" && pane_lacks ia 'sleep 11'; then
	pass step_key
else
	show_pane ia; fail step_key "'.' did not bring the seq output frame by frame"
fi
quit_replay

# ']' jumps to the next command (then playing shows its output)
step_start
ia_run "$KT replay $ID --from-command $N_LS --paused"
wait_for 10 pane_has ia 'ls /' && sleep 0.2
if pane_lacks ia 'seq 1 40'; then
	ia_key ']'
	if wait_for 5 pane_has ia 'seq 1 40' && pane_has ia usr && pane_lacks ia 'sleep 11'; then
		ia_key Space
		if wait_for 10 pane_line ia 40; then pass next_command_key
		else show_pane ia; fail next_command_key "no seq output after resuming at the next command"; fi
	else
		show_pane ia; fail next_command_key "']' did not show the next command (seq)"
	fi
else
	show_pane ia; fail next_command_key "--from-command $N_LS already shows seq"
fi
quit_replay

# Left: 10 s back, into the pause before the clear; Right: forward again
step_start
ia_run "$KT replay $ID --from-command $N_STTY --paused"
wait_for 10 pane_has ia 'stty size' && sleep 0.2
if pane_lacks ia 'sleep 11'; then
	ia_key Left
	if wait_for 5 pane_line ia 40 && pane_has ia 'sleep 11' && pane_lacks ia 'stty size'; then
		ia_key Right
		if wait_for 5 pane_has ia 'stty size' && pane_lacks ia 'sleep 11'; then pass seek_keys
		else show_pane ia; fail seek_keys "Right did not seek forward past the clear"; fi
	else
		show_pane ia; fail seek_keys "Left did not show the screen from 10 s earlier"
	fi
else
	show_pane ia; fail seek_keys "the stty screen still shows content from before the clear"
fi
quit_replay
check restored_after_q "the terminal is not cooked after q" tty_ok

# SIGTERM: restored, exit 143
step_start
rm -f "$KT_TMP/rp.pid"
ia_run "sh -c 'echo \$\$ >$KT_TMP/rp.pid; exec $KTB --db $KT_TMP/kt.db replay $ID --from-command $N_LS --paused'"
wait_for 10 test -s "$KT_TMP/rp.pid" && wait_for 10 pane_has ia ':/#'
kill -TERM "$(cat "$KT_TMP/rp.pid")"
if wait_for 5 pane_has ia "EXITED=143" && tty_ok; then pass restored_after_sigterm
else show_pane ia; fail restored_after_sigterm "no exit 143 or the terminal was left raw"; fi

# Ctrl-Z: restored while stopped, redrawn after fg
step_start
ia_run "$KT replay $ID --from-command $N_STTY --paused"
wait_for 10 pane_has ia 'stty size' && sleep 0.2
ia_key C-z
if wait_for 5 pane_has ia "Stopped" && tty_ok; then
	tm send-keys -t ia -l -- "clear; fg"
	tm send-keys -t ia Enter
	if wait_for 5 pane_has ia 'stty size' && pane_lacks ia 'typed-ok'; then
		ia_key q
		if tty_ok; then pass suspend_resume
		else show_pane ia; fail suspend_resume "after fg and q the terminal was not restored"; fi
	else
		show_pane ia; fail suspend_resume "fg did not redraw the replay"
	fi
else
	show_pane ia; fail suspend_resume "Ctrl-Z did not stop the replay with the terminal restored"
fi

# ------------------------------------------------------------------ ends on the alternate screen
# A full-screen program killed on the alternate screen (as vim or less
# killed with the shell): the replay must end on that frame, and leave the
# alternate screen only when the viewer quits.
step_start
tm new-session -d -s alt -x 100 -y 30 "$FAKEPOD exec-tty bash; exec sleep 100000" ||
	fatal alt_session "tmux new-session failed"
tm resize-window -t alt -x 100 -y 30 2>/dev/null
wait_for 15 pane_has alt ':/#' || { show_pane alt; fatal alt_prompt "no bash prompt in the alt pane"; }
tm send-keys -t alt -l -- 'echo MAIN-BEFORE; printf "\033[?1049h\033[2J\033[HALT-LAST-FRAME\n"; sleep 0.5; kill -9 $$'
tm send-keys -t alt Enter
wait_for 10 pane_has alt ALT-LAST-FRAME || { show_pane alt; fatal alt_frame "no ALT-LAST-FRAME in the live pane"; }
alt_id() { $KT sessions --json --pod "$POD_NAME" --tty | python3 -c "import json,sys; print([s['id'] for s in json.load(sys.stdin) if s['id'] != $ID and s['state'] != 'active'][0])"; }
ALT_ID=
for _ in $(seq 1 30); do
	ALT_ID=$(alt_id 2>/dev/null) && [ -n "$ALT_ID" ] && break
	sleep 0.5
done
[ -n "$ALT_ID" ] || fatal alt_session_ended "the alternate-screen session did not end in the store within 15 s"
ia_run "$KT replay $ALT_ID --speed 1000"
# whole lines: the recorded command line (on the main screen) contains the text
if wait_for 15 pane_line ia ALT-LAST-FRAME; then
	sleep 1.5	# well past the end
	if pane_line ia ALT-LAST-FRAME && pane_lacks ia EXITED=; then
		pass replay_ends_on_alt_screen_frame
	else
		show_pane ia; fail replay_ends_on_alt_screen_frame "the last frame (on the alternate screen) was gone at the end"
	fi
else
	show_pane ia; fail replay_ends_on_alt_screen_frame "ALT-LAST-FRAME never shown"
fi
ia_key q
if wait_for 5 pane_has ia "EXITED=0" && ! pane_line ia ALT-LAST-FRAME && pane_line ia MAIN-BEFORE && tty_ok; then
	pass replay_restores_terminal_on_quit
else
	show_pane ia; fail replay_restores_terminal_on_quit "after q: no exit 0, alternate screen not left, or the terminal left raw"
fi

finish
