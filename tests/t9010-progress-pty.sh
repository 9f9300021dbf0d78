#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
test_description='the progress block on a real terminal (tmux): one line per running stage in pipeline order, warnings and summaries above it, nothing left at the end; plain text off a terminal, with --progress, NO_COLOR and TERM=dumb'
. ./lib.sh
. "$TEST_DIRECTORY/lib-llm.sh"

if ! test_have_prereq TMUX; then
	test_skip_all 'tmux is not installed'
fi
# util-linux script(1): a terminal of its own, whose output it records.
test_lazy_prereq SCRIPT_PTY 'script -qec true /dev/null'

OPENAI_API_KEY=sk-test-pty-0123456789
export OPENAI_API_KEY

# tmux on a server of this script's own (never the user's), without configuration.
tmx() {
	env -u TMUX tmux -S "$TRASH_DIRECTORY/tmux.sock" -f /dev/null "$@"
}
trap 'tmx kill-server >/dev/null 2>&1; mock_stop_all_' EXIT

# What every pane starts from: the environment given explicitly, not tmux's.
{
	printf "export PATH='%s' XDG_RUNTIME_DIR='%s' OPENAI_API_KEY='%s' LC_ALL=C\n" \
		"$PATH" "$XDG_RUNTIME_DIR" "$OPENAI_API_KEY"
	printf 'unset NO_COLOR TMUX JL_DB\n'
	printf "cd '%s' || exit 1\n" "$TRASH_DIRECTORY"
} >env.sh

# pty_start NAME COLUMNS: run NAME.cmd in a new session NAME, COLUMNS x 40,
# its terminal the pane's; the status goes to NAME.rc, then the pane stays
# (a sleep) for its screen to be read.
pty_start() {
	printf '. ./env.sh\nsh %s.cmd\necho $? >%s.rc\nexec sleep 600\n' "$1" "$1" >"pty-$1.sh" &&
	tmx new-session -d -s "$1" -x "$2" -y 40 -c "$TRASH_DIRECTORY" "sh pty-$1.sh"
}

# pty_wait NAME: wait (60 s at most) for NAME.cmd to end; fails unless it exited 0.
pty_wait() {
	pw_n=0
	while [ ! -s "$1.rc" ]; do
		pw_n=$((pw_n + 1))
		if [ "$pw_n" -gt 600 ]; then
			echo >&4 "pty_wait: $1 still runs after 60 s"
			return 1
		fi
		sleep 0.1
	done
	if [ "$(cat "$1.rc")" != 0 ]; then
		echo >&4 "pty_wait: $1 exited $(cat "$1.rc")"
		return 1
	fi
}

# snap NAME FILE [capture-pane options]: the screen of NAME, wrapped lines
# joined (so that a line wider than the pane shows as one), trailing blanks
# and blank lines cut.
snap() {
	sn_name=$1 sn_file=$2
	shift 2
	tmx capture-pane -p -J -t "$sn_name" "$@" >"$sn_file.raw" &&
	sed 's/ *$//' "$sn_file.raw" |
	awk '{ l[NR] = $0; if ($0 != "") n = NR } END { for (i = 1; i <= n; i++) print l[i] }' >"$sn_file"
}

# snap_until NAME FILE CMD...: take the screen of NAME into FILE until CMD
# succeeds (30 s at most; then CMD says why on the verbose output).
snap_until() {
	su_name=$1 su_file=$2
	shift 2
	su_n=0
	while :; do
		snap "$su_name" "$su_file" || return 1
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		su_n=$((su_n + 1))
		if [ "$su_n" -gt 300 ]; then
			echo >&4 "snap_until: not true after 30 s: $*"
			"$@" >&4 2>&4
			cat >&4 "$su_file"
			return 1
		fi
		sleep 0.1
	done
}

# A progress line: "TOOL[ (DETAIL)]: DONE[/EXPECTED] done, ..."
PROG='^jl-[a-z]+( \([^)]*\))?: [0-9]+(/[0-9]+)? done, '
ESC=$(printf '\033')
CR=$(printf '\r')

# block FILE: the block, the progress lines the screen in FILE ends with;
# fails when a progress line is above them (a line left behind).
block() {
	awk -v re="$PROG" '{ l[NR] = $0 }
	END {
		first = NR + 1
		while (first > 1 && l[first - 1] ~ re)
			first--
		for (i = 1; i < first; i++)
			if (l[i] ~ re) {
				print "a progress line above the block: " l[i] >"/dev/stderr"
				exit 1
			}
		for (i = first; i <= NR; i++)
			print l[i]
	}' "$1"
}

# stages FILE: "STAGE DONE" for each line of the block in FILE (dedup, a, b, cost).
stages() {
	block "$1" | awk '{ key = "?" }
	/^jl-dedup: / { key = "dedup" }
	/^jl-llm \(openai\/mock-model -> \.first_summary_of_the_company\): / { key = "a" }
	/^jl-llm \(openai\/mock-model -> \.second_summary_of_the_company\): / { key = "b" }
	/^jl-llm \(openai\/mock-model -> \.llm\): / { key = "llm" }
	/^jl-cost: / { key = "cost" }
	{ sub(/^[^:]*: /, ""); n = $0; sub(/[^0-9].*/, "", n); print key, n }'
}

# whole_lines FILE: no line holds the text of two tools, or a progress line
# after something else (a message or another line glued to it).
whole_lines() {
	awk '{ line = $0; n = gsub(/jl-(dedup|llm|cost)/, "&", line) }
	n > 1 { print "two tools in a line: " $0; bad = 1 }
	/ done, [0-9]+ failed/ && !/^jl-[a-z]+( \([^)]*\))?: [0-9]+(\/[0-9]+)? done, / {
		print "a progress line glued to something: " $0; bad = 1
	}
	END { exit bad }' "$1"
}

# narrow FILE COLUMNS: every line of the block in FILE is narrower than the pane.
narrow() {
	block "$1" | awk -v w="$2" 'length($0) >= w { print "wider than " w - 1 ": " $0; bad = 1 }
	END { exit bad }'
}

# pipeline_block FILE: the block of the 4-stage pipeline in FILE: whole,
# narrow lines; one line per stage in pipeline order, jl-dedup only first.
pipeline_block() {
	whole_lines "$1" &&
	narrow "$1" 150 &&
	stages "$1" >"$1.stages" &&
	order=$(cut -d " " -f 1 "$1.stages" | tr "\n" " ") &&
	case $order in
	"a b cost " | "dedup a b cost ") ;;
	*) echo "not the block of the pipeline (stages: $order)"; cat "$1"; return 1 ;;
	esac
}

# cost_drawn FILE: the screen in FILE shows the progress line of jl-cost past
# its first record (what is polled for; the checks come after).
cost_drawn() {
	grep -E "^jl-cost: [1-9][0-9]*(/[0-9]+)? done, " "$1"
}

# warned FILE: the screen in FILE shows the warning of jl-cost, and the block again.
warned() {
	grep "no price for the model" "$1" && cost_drawn "$1"
}

# no_progress FILE: FILE holds no progress line.
no_progress() {
	if grep -E "$PROG" "$1" >&4; then
		echo >&4 "no_progress: progress lines (above) in $1"
		return 1
	fi
}

# only_lines ERE FILE: every line of FILE matches ERE.
only_lines() {
	awk -v re="$1" '$0 !~ re { print "only_lines: not " re ": " $0; bad = 1 } END { exit bad }' "$2" >&4
}

# failed_shown FILE: a progress line shows a failure.
failed_shown() {
	grep -E "$PROG" "$1" | grep -E " done, [1-9][0-9]* failed" >/dev/null
}

# WARNING: the whole line jl-cost prints for the record of a model it has no price of.
WARNING='^jl-cost: no price for the model .openai/nope-model.: its records are not priced \(--prices FILE adds one\)$'

# The summaries of the pipeline, whole lines.
DEDUP_SUMMARY='^jl-dedup: 400 records: 350 passed \(.*, 50 as duplicates, .*; 0 bad keys$'
LLM_SUMMARY='^jl-llm: 350 records, 350 ok \(0 cached\), 0 failed; 350 requests, 0 rate-limited, [0-9]+\+[0-9]+ tokens in [0-9.]+ s$'
COST_SUMMARY='^jl-cost: 350 records, \$[0-9.]+ \(LLM \$[0-9.]+, search \$[0-9.]+\); 1 records \(2 tokens\) unpriced$'

# summaries FILE: the four summaries of the pipeline and its warning, a line each, in FILE.
summaries() {
	grep -E "$DEDUP_SUMMARY" "$1" >dedup &&
	test_line_count -eq 1 dedup &&
	grep -E "$LLM_SUMMARY" "$1" >llm &&
	test_line_count -eq 2 llm &&
	grep -E "$COST_SUMMARY" "$1" >cost &&
	test_line_count -eq 1 cost &&
	grep -E "$WARNING" "$1" >warning &&
	test_line_count -eq 1 warning
}

test_expect_success 'setup: 350 companies and 50 duplicates, one of a model jl-cost has no price of' '
	records 199 >in &&
	cat >>in <<-\EOF &&
	{"id":200,"name":"Company 200","llm":{"model":"nope-model","provider":"openai","usage":{"prompt_tokens":1,"completion_tokens":1}}}
	EOF
	records 150 201 >>in &&
	records 50 >>in &&
	test_line_count = 400 in &&
	mock_start --latency 50-150 &&
	URL=$MOCK_URL &&
	cat >pipeline.sh <<-\EOF &&
	# pipeline.sh N URL [OPTION]: the pipeline, its output in outN, its database rN.db
	jl-dedup --key .name $3 <in |
	jl-llm -m openai/mock-model --base-url $2/v1 --into first_summary_of_the_company -p "A {{.name}}" -j 4 $3 |
	jl-llm -m openai/mock-model --base-url $2/v1 --into second_summary_of_the_company -p "B {{.name}}" -j 4 $3 |
	jl-cost --db r$1.db $3 >out$1
	EOF
	echo "sh pipeline.sh 1 $URL" >tty.cmd &&
	echo "sh pipeline.sh 4 $URL 2>err4" >file.cmd &&
	printf "1-2 path=/chat/completions error=bad_request\n" >fail.scn &&
	mock_start --latency 50-150 --scenario fail.scn &&
	echo "sh pipeline.sh 7 $MOCK_URL --progress 2>err7" >plain.cmd
'

test_expect_success 'setup: a stage alone, with failures; with NO_COLOR and -q --progress; with -q; with TERM=dumb; two quiet stages' '
	records 120 >in120 &&
	mock_start --latency 50-150 --scenario fail.scn &&
	echo "jl-llm -m openai/mock-model --base-url $MOCK_URL/v1 -p \"A {{.name}}\" -j 2 <in120 >out-alone" >alone.cmd &&
	mock_start --latency 50-150 --scenario fail.scn &&
	echo "NO_COLOR=1 jl-llm -q --progress -m openai/mock-model --base-url $MOCK_URL/v1 -p \"A {{.name}}\" -j 2 <in120 >out-nocolor" >nocolor.cmd &&
	echo "jl-llm -m openai/mock-model --base-url $URL/v1 -p \"A {{.name}}\" -j 2 <in120 | jl-cost >out-dumb" >dumb-inner.sh &&
	echo "TERM=dumb script -qefc \"sh dumb-inner.sh\" dumb.ts" >dumb.cmd &&
	records 8 >in8 &&
	echo "jl-llm -q --progress -m openai/mock-model --base-url $URL/v1 --into a -p \"A {{.name}}\" -j 1 <in8 |
		(sleep 0.4; exec jl-llm -q --progress --dry-run -m openai/mock-model -p \"B {{.name}}\") >out-handover" >handover.cmd &&
	echo "jl-llm -q -m openai/mock-model --base-url $URL/v1 -p \"A {{.name}}\" -j 1 <in120 >out-quiet" >quiet.cmd
'

# Eight runs at once, on eight terminals: the pipeline on its terminal, with
# stderr to a file, with --progress and stderr to a file; a stage alone (in
# 72 columns), with NO_COLOR and -q --progress, with -q alone, with TERM=dumb
# under script(1); two quiet stages, the second started late so that the
# first one draws. Each block shows the stages of its own terminal only.
test_expect_success 'eight runs at once, each on a terminal of its own' '
	pty_start tty 150 &&
	pty_start file 150 &&
	pty_start plain 150 &&
	pty_start alone 72 &&
	pty_start nocolor 150 &&
	pty_start handover 150 &&
	pty_start quiet 150 &&
	if test_have_prereq SCRIPT_PTY; then pty_start dumb 150; fi
'

test_expect_success 'a stage with -q alone: nothing drawn while it runs (-q turns progress off)' '
	sleep 1 &&
	snap quiet q1 &&
	! test -e quiet.rc &&
	test_must_be_empty q1
'

test_expect_success 'a stage alone: one progress line, cut to the pane, its failures in red' '
	snap_until alone a1 failed_shown a1 &&
	snap alone a1e -e &&
	test_line_count = 1 a1 &&
	grep -E "$PROG" a1 >progress &&
	test_line_count = 1 progress &&
	test_grep "^jl-llm (openai/mock-model -> .llm): [0-9]*/[0-9]* done, " progress &&
	narrow a1 72 &&
	grep -E "$ESC\[31m[1-9][0-9]* failed" a1e >&4
'

test_expect_success 'NO_COLOR: the failed count without colour' '
	snap_until nocolor n1 failed_shown n1 &&
	snap nocolor n1e -e &&
	sed -e "s/$ESC\[0*m//g" -e "s/$ESC\[39m//g" -e "s/$ESC\[49m//g" n1e >n1e.stripped &&
	test_grep -v "$ESC" n1e.stripped
'

test_expect_success SCRIPT_PTY 'TERM=dumb: no block while it runs' '
	wait_lines 10 out-dumb &&
	snap dumb d1 &&
	snap dumb d1e -e &&
	no_progress d1 &&
	test_grep -v "$ESC" d1e
'

test_expect_success 'the pipeline: one line per stage, in pipeline order, each of them moving' '
	snap_until tty s1 cost_drawn s1 &&
	sleep 2 &&
	snap tty s2 &&
	pipeline_block s1 &&
	pipeline_block s2 &&
	awk "NR == FNR { n[\$1] = \$2; next }
		\$1 != \"dedup\" && !(\$2 > n[\$1]) { print \"not moving: \" \$1, n[\$1], \$2; bad = 1 }
		END { exit bad }" s1.stages s2.stages >&4
'

test_expect_success PYTHON3 'jl-top --json from outside: the pipeline, its stages in order, counts that match what they wrote' '
	jl-top --json --db r1.db >top1 &&
	wc -l <out1 >lines1 &&
	python3 - top1 lines1 <<-\EOF
	import json, sys
	P = [json.loads(l) for l in open(sys.argv[1])]
	out = int(open(sys.argv[2]).read())
	assert len(P) == 1, P
	S = [s for s in P[0]["stages"] if s["running"]]
	assert [s["tool"] for s in S] == ["jl-llm", "jl-llm", "jl-cost"], S
	assert S[0]["detail"].endswith(".first_summary_of_the_company"), S[0]
	assert S[1]["detail"].endswith(".second_summary_of_the_company"), S[1]
	assert P[0]["db"].endswith("/r1.db") and P[0]["pgid"] > 0, P[0]
	A = P[0]["stages"]
	# a stage has done no more than the one before it wrote (read a moment apart)
	assert all(d["done"] <= u["written"] + 16 and d["done"] > 0 for u, d in zip(A, A[1:])), A
	cost = S[2]
	# what jl-cost wrote is what the output file holds, within a moment of records
	assert abs(cost["written"] - out) <= 32, (cost, out)
	assert all(s["in_flight"] <= 4 for s in S[:2]), S
	EOF
'

test_expect_success 'the pipeline: a warning mid-run prints as a whole line above the block' '
	snap_until tty s3 warned s3 &&
	grep -c "no price for the model" s3 >n &&
	echo 1 >one &&
	test_cmp one n &&
	grep -E "$WARNING" s3 >&4 &&
	pipeline_block s3
'

test_expect_success 'the pipeline at its end: the four summaries, each a line of its own, and no progress line' '
	pty_wait tty &&
	snap tty end &&
	whole_lines end &&
	no_progress end &&
	summaries end &&
	test_line_count = 5 end
'

test_expect_success 'the pipeline at its end: all 350 records went through, and jl-top lists it no more' '
	jl-top --json --db r1.db >top-end &&
	test_must_be_empty top-end &&
	test_line_count = 350 out1 &&
	json_lines_valid out1 &&
	grep -c "\"second_summary_of_the_company\":{\"content\":" out1 >n &&
	echo 350 >want &&
	test_cmp want n &&
	sed "s/,.*//" out1 | sort -u >ids &&
	test_line_count = 350 ids
'

test_expect_success 'stderr to a file: only the summaries and the warning, no escape code, no carriage return' '
	pty_wait file &&
	test_line_count = 350 out4 &&
	test_grep -v "$ESC" err4 &&
	test_grep -v "$CR" err4 &&
	no_progress err4 &&
	only_lines "^jl-(dedup|llm|cost): " err4 &&
	summaries err4 &&
	test_line_count = 5 err4
'

test_expect_success '--progress to a file, over more than 5 s: plain progress lines, no escape code' '
	pty_wait plain &&
	test_line_count = 350 out7 &&
	test_grep -v "$ESC" err7 &&
	test_grep -v "$CR" err7 &&
	only_lines "^jl-(dedup|llm|cost)( \([^)]*\))?: " err7 &&
	grep -E "$PROG" err7 >progress &&
	failed_shown progress &&
	test_grep "^jl-llm (openai/mock-model -> .first_summary_of_the_company): [0-9]*/350 done, " progress &&
	test_grep "^jl-llm (openai/mock-model -> .second_summary_of_the_company): [0-9]*/350 done, " progress &&
	test_grep "^jl-cost: [0-9]*/350 done, " progress &&
	grep -Ev "$PROG" err7 >rest &&
	grep -E "$DEDUP_SUMMARY" rest >dedup &&
	test_line_count = 1 dedup &&
	grep -E "^jl-llm: 350 records, 348 ok \(0 cached\), 2 failed.* in [0-9.]+ s$" rest >llm &&
	test_line_count = 2 llm &&
	grep -E "^jl-cost: 348 records, " rest >cost &&
	test_line_count = 1 cost &&
	grep -E "$WARNING" rest >warning &&
	test_line_count = 1 warning &&
	test_line_count = 5 rest
'

test_expect_success 'a stage alone at its end: its summary and nothing else' '
	pty_wait alone &&
	snap alone a2 &&
	test_line_count = 1 a2 &&
	grep -E "^jl-llm: 120 records, [0-9]+ ok \(0 cached\), [1-9][0-9]* failed .* in [0-9.]+ s$" a2 >&4 &&
	test_line_count = 120 out-alone
'

test_expect_success 'a stage alone, quiet, at its end: an empty screen' '
	pty_wait nocolor &&
	test_line_count = 120 out-nocolor &&
	snap nocolor n2 &&
	test_must_be_empty n2
'

# The first stage draws the block, and ends first: the second, which never
# drew, is the one to erase its own line (it prints no summary that would).
test_expect_success 'a stage with -q alone: nothing drawn at its end' '
	pty_wait quiet &&
	test_line_count = 120 out-quiet &&
	snap quiet q2 &&
	test_must_be_empty q2
'

test_expect_success 'two quiet stages, the drawer ending first: nothing left on the screen' '
	pty_wait handover &&
	test_line_count = 8 out-handover &&
	snap handover h &&
	test_must_be_empty h
'

test_expect_success SCRIPT_PTY 'TERM=dumb: no escape code written, only the summaries' '
	pty_wait dumb &&
	test_line_count = 120 out-dumb &&
	test_grep -v "$ESC" dumb.ts &&
	tr -d "\r" <dumb.ts >dumb.txt &&
	no_progress dumb.txt &&
	test_grep "^jl-llm: 120 records, 120 ok " dumb.txt &&
	test_grep "^jl-cost: 120 records, " dumb.txt &&
	snap dumb d2 &&
	no_progress d2 &&
	test_grep "^jl-cost: 120 records, " d2
'

tmx kill-server >/dev/null 2>&1
test_done
