#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
test_description='jl-top: running pipelines listed from the published state, in pipeline order, with their counts, spend and budget; ended stages; gone after their end and after kill -9; --db; --once; --json (strict JSON); the screen on a terminal (q, Ctrl-C, a new size, the terminal restored), NO_COLOR, TERM=dumb; usage errors; the manual'
. ./lib.sh
. "$TEST_DIRECTORY/docs-lib.sh"

# lib.sh gives the script a runtime directory of its own; jl-top reads
# /tmp/jlkit-UID too, where others may publish, so the tests look at their
# own pipelines only: by process group, or with --db.
STAGES=$XDG_RUNTIME_DIR/jlkit/stages

# priced N [FIRST]: N records, ids from FIRST (1), with the LLM usage of
# 1000 prompt and 500 completion tokens of gpt-4o-mini, $0.000450 each.
priced() {
	awk -v n="$1" -v first="${2:-1}" 'BEGIN {
		for (i = first; i < first + n; i++)
			printf "{\"id\":%d,\"llm\":{\"model\":\"gpt-4o-mini\",\"provider\":\"openai\",\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":500}}}\n", i
	}'
}

# start NAME DB: the pipeline "jl-dedup | jl-cost --budget 5" on run database
# DB in a process group of its own (its id in NAME.pgid), reading the fifo
# NAME.fifo, which a sleep holds open for writing (its pid in NAME.holder):
# records written to the fifo go through, and the pipeline runs until the
# holder is killed.
start() {
	rm -f "$1.fifo" "$1.pgid" &&
	mkfifo "$1.fifo" &&
	{
		setsid sh -c 'echo $$ >"$1.pgid.tmp" && mv "$1.pgid.tmp" "$1.pgid" &&
			jl-dedup -q --db "$2" --key .id <"$1.fifo" |
			jl-cost -q --db "$2" --budget 5 >"$1.out"' sh "$1" "$2" &
	} &&
	echo $! >"$1.job" &&
	{ sleep 600 >"$1.fifo" & } &&
	echo $! >"$1.holder" &&
	wait_until test -s "$1.pgid" &&
	wait_until holding "$1"
}

# holding NAME: the holder of NAME.fifo has it open (else the first writer
# to close it would end the pipeline's input).
holding() {
	case $(readlink "/proc/$(cat "$1.holder")/fd/1") in
	*/"$1.fifo") true ;;
	*) false ;;
	esac
}

# stop NAME: end the pipeline's input, and wait for it to finish.
stop() {
	kill "$(cat "$1.holder")" 2>/dev/null
	wait "$(cat "$1.job")" 2>/dev/null
	true
}

# kill_group NAME: kill -9 the pipeline's process group, and its holder.
kill_group() {
	kill -9 "-$(cat "$1.pgid")" 2>/dev/null # not "--": the kill of dash takes none
	kill "$(cat "$1.holder")" 2>/dev/null
	wait "$(cat "$1.job")" 2>/dev/null
	true
}

# wait_until CMD...: run CMD every 0.1 s until it succeeds, for at most 30 s.
wait_until() {
	wu_i=0
	until "$@"; do
		wu_i=$((wu_i + 1))
		if [ "$wu_i" -ge 300 ]; then
			echo "wait_until: gave up on: $*" >&4
			return 1
		fi
		sleep 0.1
	done
}

# spent_is USD [jl-top options]: jl-top --json says the ledger holds USD
# (as printed: 6 to 12 decimals) and the budget is $5.
spent_is() {
	si_usd=$1
	shift
	jl-top --json "$@" >spent.json &&
	grep -q "\"spent_usd\":$si_usd,\"budget_usd\":5.000000}\$" spent.json
}

# ended_shown: the pipeline "jl-csv e.csv | jl-dedup | sleep" shows jl-csv
# ended with its 4000 records, jl-dedup running.
ended_shown() {
	stages >stages.out &&
	grep -q "^$(cat e.pgid) jl-csv=4000(ended) jl-dedup=[0-9]*\$" stages.out
}

# no_state_left: after a read by jl-top, the stages directory is empty (an
# ended stage that wrote to a pipe keeps its file for a few seconds).
no_state_left() {
	jl-top --json >/dev/null &&
	ls "$STAGES" >left &&
	test ! -s left
}

# lines_are N FILE: FILE has N lines.
lines_are() {
	test -f "$2" && test "$(wc -l <"$2")" -eq "$1"
}

ESC=$(printf "\033")

# stages [jl-top options]: per pipeline of jl-top --json, a line
# "PGID TOOL=DONE TOOL=DONE ..." (an ended stage's DONE followed by "(ended)").
stages() {
	jl-top --json "$@" >stages.json &&
	jq -r '"\(.pgid) " + ([.stages[] | "\(.tool)=\(.done)\(if .running then "" else "(ended)" end)"] | join(" "))' \
		stages.json
}

# stages_are NAME "WANT" [jl-top options]: the stages of pipeline NAME are WANT.
stages_are() {
	sa_pgid=$(cat "$1.pgid") &&
	sa_want=$2 &&
	shift 2 &&
	stages "$@" >stages.out &&
	test "$(sed -n "s/^$sa_pgid //p" stages.out)" = "$sa_want"
}

# not_listed NAME [jl-top options]: jl-top --json does not list pipeline NAME.
not_listed() {
	nl_pgid=$(cat "$1.pgid") &&
	shift &&
	stages "$@" >stages.out &&
	! grep -q "^$nl_pgid " stages.out
}

# none_listed [jl-top options]: jl-top --json lists no pipeline.
none_listed() {
	jl-top --json "$@" >none.json && test ! -s none.json
}

# top_json_valid FILE: every line is strict JSON (no NaN, no duplicate
# keys), an object with the members jl-top(1) documents, of their types.
top_json_valid() {
	python3 - "$1" <<'EOF' >&4 2>&1
import json, re, sys

def strict(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key in %r" % keys)
    return dict(pairs)

def bad_constant(c):
    raise ValueError("not JSON: " + c)

def number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)

def count(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0

PIPELINE = {"pgid", "tty", "db", "started", "stages", "spent_usd", "budget_usd"}
STAGE = {"tool", "detail", "pid", "running", "done", "failed", "cached", "dropped", "written",
         "in_flight", "rate", "rate_limited", "tokens", "usd", "expected", "eta_s"}
for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    p = json.loads(line, object_pairs_hook=strict, parse_constant=bad_constant)
    where = "line %d" % n
    assert set(p) == PIPELINE, (where, sorted(set(p) ^ PIPELINE))
    assert count(p["pgid"]) and p["pgid"] > 0, where
    assert p["tty"] is None or p["tty"].startswith("/dev/"), where
    assert p["db"] is None or p["db"].startswith("/"), where
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", p["started"]), where
    assert p["spent_usd"] is None or number(p["spent_usd"]), where
    assert p["budget_usd"] is None or number(p["budget_usd"]), where
    assert isinstance(p["stages"], list) and p["stages"], where
    for s in p["stages"]:
        assert set(s) == STAGE, (where, sorted(set(s) ^ STAGE))
        assert re.fullmatch(r"jl-[a-z]+", s["tool"]), where
        assert s["detail"] is None or isinstance(s["detail"], str), where
        assert count(s["pid"]) and isinstance(s["running"], bool), where
        for k in ("done", "failed", "cached", "dropped", "written", "in_flight",
                  "rate_limited", "tokens"):
            assert count(s[k]), (where, k)
        assert number(s["rate"]) and s["rate"] >= 0, where
        assert s["usd"] is None or number(s["usd"]), where
        assert s["expected"] is None or count(s["expected"]), where
        assert s["eta_s"] is None or number(s["eta_s"]), where
EOF
}

# on_pty OUT [options] -- CMD...: run CMD on a new terminal (python3's pty)
# of 100 columns and 20 rows, TERM=xterm, everything it writes kept in OUT.
# Options: --keys K (bytes to type, \x03 is Ctrl-C) after --after SECS (when
# SECS have passed), --resize COLS (the terminal narrowed, at half of SECS).
# Prints "rc=N icanon=B echo=B": its exit status, and whether the terminal
# is back in canonical mode with echo.
on_pty() {
	python3 - "$@" <<'EOF'
import os, pty, select, struct, sys, termios, time, fcntl

args = sys.argv[1:]
out = args.pop(0)
keys, after, resize = b"", 1.0, None
while args[0] != "--":
    opt, val = args.pop(0), args.pop(0)
    if opt == "--keys":
        keys = val.encode().decode("unicode_escape").encode("latin-1")
    elif opt == "--after":
        after = float(val)
    elif opt == "--resize":
        resize = int(val)
args.pop(0)
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 20, 100, 0, 0))
    os.environ["TERM"] = os.environ.get("PTY_TERM", "xterm")
    os.execvp(args[0], args)
start, data, sent, resized, marks = time.time(), b"", False, False, []
while True:
    now = time.time() - start
    if resize and not resized and now >= after / 2:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 20, resize, 0, 0))
        resized = True
        marks.append(len(data))
    if keys and not sent and now >= after:
        os.write(fd, keys)
        sent = True
    if now > after + 20:
        os.kill(pid, 9)
    r, _, _ = select.select([fd], [], [], 0.05)
    if r:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
attrs = termios.tcgetattr(fd)
_, status = os.waitpid(pid, 0)
open(out, "wb").write(data)
if marks:
    open(out + ".resized", "w").write(str(marks[0]))
rc = os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status >> 8
print("rc=%d icanon=%d echo=%d" % (rc, bool(attrs[3] & termios.ICANON), bool(attrs[3] & termios.ECHO)))
EOF
}

# frame_widths OUT: the widest line of the screen drawn last after the
# terminal was narrowed (OUT.resized), escape sequences left out.
frame_widths() {
	python3 - "$1" <<'EOF'
import re, sys
data = open(sys.argv[1], "rb").read()
mark = int(open(sys.argv[1] + ".resized").read())
frames = data[mark:].split(b"\033[H")[1:]
assert frames, "no screen drawn after the terminal was narrowed"
text = re.sub(rb"\033\[[0-9;?]*[A-Za-z]", b"", frames[-1])
print(max(len(line.rstrip(b"\r")) for line in text.split(b"\n")))
EOF
}

test_lazy_prereq SETSID 'command -v setsid'

test_expect_success 'no pipeline: the table says so, --json prints nothing' '
	jl-top --db none.db >out 2>err &&
	test_must_be_empty err &&
	echo "No jlkit pipelines running." >expect &&
	test_cmp expect out &&
	jl-top --once --db none.db >out &&
	test_cmp expect out &&
	jl-top --json --db none.db >out &&
	test_must_be_empty out &&
	test ! -e none.db &&
	jl-top >out &&
	test -s out &&
	test -d "$STAGES" &&
	test "$(stat -c %a "$STAGES/..")" = 700
'

test_expect_success 'usage errors exit 64 with one message and the usage line' '
	test_expect_code 64 jl-top --bogus 2>err &&
	test_grep "^jl-top: unknown option" err &&
	test_grep "^usage: jl-top " err &&
	test_expect_code 64 jl-top --interval 0 2>err &&
	test_grep "invalid value .0. for --interval" err &&
	test_expect_code 64 jl-top --interval x 2>err &&
	test_expect_code 64 jl-top --once --json 2>err &&
	test_grep "give one of --once and --json" err &&
	test_expect_code 64 jl-top --db "" 2>err &&
	test_expect_code 64 jl-top extra 2>err &&
	test_grep "unexpected argument .extra." err
'

test_expect_success 'a state directory others can write to: exit 66, named' '
	mkdir -m 700 bad && mkdir -m 777 bad/jlkit && chmod 777 bad/jlkit &&
	test_expect_code 66 env XDG_RUNTIME_DIR="$PWD/bad" jl-top --once 2>err &&
	test_grep "^jl-top: cannot open the state directory .*bad/jlkit/stages" err
'

test_expect_success SETSID,JQ,PYTHON3 'a running pipeline: listed with its stages in order, done as written, spend and budget' '
	test_when_finished "kill_group a1" &&
	start a1 a1.db &&
	priced 3 >a1.fifo &&
	wait_until stages_are a1 "jl-dedup=3 jl-cost=3" &&
	wait_until spent_is 0.001350 --db a1.db &&
	jl-top --json --db a1.db >top.json &&
	top_json_valid top.json &&
	test_line_count = 1 top.json &&
	test "$(jq -r .pgid top.json)" = "$(cat a1.pgid)" &&
	test "$(jq -r .db top.json)" = "$(pwd -P)/a1.db" &&
	test "$(jq -r .tty top.json)" = null &&
	test "$(jq -r "[.stages[].running] | unique | join(\" \")" top.json)" = true &&
	test "$(jq -r .stages[1].usd top.json)" = 0.00135 &&
	test "$(jq -r .stages[0].usd top.json)" = null &&
	test "$(jq -r .budget_usd top.json)" = 5 &&
	priced 5 4 >a1.fifo &&
	wait_until stages_are a1 "jl-dedup=8 jl-cost=8" &&
	wait_until spent_is 0.003600 --db a1.db
'

test_expect_success SETSID,JQ 'the table: a header, the stage lines of the progress block, the database line; no escapes' '
	test_when_finished "kill_group a2" &&
	start a2 a2.db &&
	priced 4 >a2.fifo &&
	wait_until stages_are a2 "jl-dedup=4 jl-cost=4" &&
	wait_until spent_is 0.001800 --db a2.db &&
	jl-top --db a2.db >once &&
	test_line_count = 4 once &&
	db=$(pwd -P)/a2.db &&
	grep -E "^pipeline $(cat a2.pgid), db $db, started [0-9]{2}:[0-9]{2}:[0-9]{2}\$" once &&
	sed -n 2p once | grep -E "^  jl-dedup( \([^)]*\))?: 4 done, 0 failed, [0-9.]+/s\$" &&
	sed -n 3p once | grep -E "^  jl-cost( \([^)]*\))?: 4 done, 0 failed, .*[$]0[.]001800" &&
	echo "db $db: spent \$0.001800 of budget \$5.000000 (\$4.998200 left)" >expect &&
	tail -n 1 once >actual &&
	test_cmp expect actual &&
	test_grep -v "$ESC" once &&
	jl-top --once --db a2.db >once2 &&
	test_line_count = 4 once2
'

test_expect_success SETSID,JQ 'its input ended: the pipeline finishes and is no longer listed, no state left' '
	start a3 a3.db &&
	priced 2 >a3.fifo &&
	wait_until stages_are a3 "jl-dedup=2 jl-cost=2" &&
	stop a3 &&
	test_line_count = 2 a3.out &&
	not_listed a3 &&
	none_listed --db a3.db &&
	jl-top --db a3.db >out &&
	test "$(cat out)" = "No jlkit pipelines running." &&
	wait_until no_state_left
'

test_expect_success SETSID,JQ 'kill -9 of the process group: no longer listed, its files removed by the reader' '
	test_when_finished "kill_group k" &&
	start k k.db &&
	priced 2 >k.fifo &&
	wait_until stages_are k "jl-dedup=2 jl-cost=2" &&
	jl-top --json --db k.db | jq -r ".stages[].pid" >pids &&
	test_line_count = 2 pids &&
	while read -r pid; do test -f "$STAGES/$pid" || return 1; done <pids &&
	kill_group k &&
	wait_until not_listed k &&
	while read -r pid; do test ! -e "$STAGES/$pid" || return 1; done <pids
'

test_expect_success SETSID,JQ,PYTHON3 '--db: only the pipelines of that database, by any name of it' '
	test_when_finished "kill_group b1; kill_group b2" &&
	start b1 b1.db &&
	start b2 b2.db &&
	priced 2 >b1.fifo &&
	priced 3 >b2.fifo &&
	wait_until stages_are b1 "jl-dedup=2 jl-cost=2" &&
	wait_until stages_are b2 "jl-dedup=3 jl-cost=3" &&
	jl-top --json >all.json &&
	top_json_valid all.json &&
	jl-top --json --db b2.db >b2.json &&
	test_line_count = 1 b2.json &&
	test "$(jq -r .pgid b2.json)" = "$(cat b2.pgid)" &&
	mkdir -p sub &&
	jl-top --json --db sub/../b1.db >b1.json &&
	test_line_count = 1 b1.json &&
	test "$(jq -r .pgid b1.json)" = "$(cat b1.pgid)" &&
	stages_are b1 "jl-dedup=2 jl-cost=2" --db "$PWD/b1.db" &&
	ln -s b1.db link.db &&
	stages_are b1 "jl-dedup=2 jl-cost=2" --db link.db &&
	not_listed b2 --db link.db &&
	none_listed --db c.db &&
	jl-top --db b2.db >once &&
	test_grep -v "b1.db" once &&
	test_grep "^db $(pwd -P)/b2.db: spent " once &&
	jl-top --db c.db >once &&
	test "$(cat once)" = "No jlkit pipelines running." &&
	test ! -e c.db
'

test_expect_success SETSID,JQ 'a stage that ended while the next one still reads its output: shown as ended' '
	test_when_finished "kill_group e" &&
	awk "BEGIN { print \"id\"; for (i = 1; i <= 4000; i++) print i }" >e.csv &&
	{ setsid sh -c "echo \$\$ >e.pgid.tmp && mv e.pgid.tmp e.pgid && jl-csv e.csv | jl-dedup -q --key .id | sleep 600" & } &&
	echo $! >e.job && : >e.holder &&
	wait_until test -s e.pgid &&
	wait_until ended_shown &&
	jl-top --json >e.json &&
	grep "^{\"pgid\":$(cat e.pgid)," e.json >e1.json &&
	test "$(jq -r ".stages[0].running, .stages[1].running" e1.json | tr "\n" " ")" = "false true " &&
	test "$(jq -r .stages[0].eta_s e1.json)" = 0 &&
	jl-top >once &&
	grep -A 2 "^pipeline $(cat e.pgid)," once >e.once &&
	grep -E "^  jl-csv( \([^)]*\))?: 4000(/4000)? done, 0 failed, .*, ended\$" e.once &&
	grep -E "^  jl-dedup( \([^)]*\))?: [0-9]+/4000 done" e.once
'

test_expect_success PYTHON3 'the screen: the alternate screen, a title, q quits with 0 and the terminal restored' '
	on_pty screen.raw --keys q --after 1 -- jl-top --db none.db --interval 0.2 >result &&
	test "$(cat result)" = "rc=0 icanon=1 echo=1" &&
	grep -qF "$ESC[?1049h" screen.raw &&
	grep -qF "$ESC[?1049l" screen.raw &&
	grep -q "jl-top [0-9:]*: 0 pipelines of .*none.db, every 0.2s, q quits" screen.raw &&
	grep -q "No jlkit pipelines running." screen.raw &&
	test "$(grep -oF "$ESC[H" screen.raw | wc -l)" -ge 3
'

test_expect_success PYTHON3 'Ctrl-C quits the screen too, with 0, the terminal restored' '
	on_pty intr.raw --keys "\\x03" --after 0.6 -- jl-top >result &&
	test "$(cat result)" = "rc=0 icanon=1 echo=1" &&
	grep -qF "$ESC[?1049l" intr.raw
'

test_expect_success SETSID,JQ,PYTHON3 'a narrower terminal: the screen drawn again, each line cut to its width' '
	test_when_finished "kill_group n" &&
	start n n.db &&
	priced 2 >n.fifo &&
	wait_until stages_are n "jl-dedup=2 jl-cost=2" &&
	on_pty narrow.raw --keys q --after 1.2 --resize 30 -- jl-top --db n.db --interval 10 >result &&
	test "$(cat result)" = "rc=0 icanon=1 echo=1" &&
	test "$(frame_widths narrow.raw)" -le 29 &&
	grep -q "  jl-cost: 2 done" narrow.raw
'

test_expect_success SETSID,JQ,PYTHON3 'colour on a terminal; none with NO_COLOR; no escapes at all with TERM=dumb' '
	test_when_finished "kill_group c" &&
	start c c.db &&
	priced 1 >c.fifo &&
	wait_until stages_are c "jl-dedup=1 jl-cost=1" &&
	on_pty color.raw -- jl-top --once --db c.db >result &&
	test "$(cat result)" = "rc=0 icanon=1 echo=1" &&
	grep -qF "$ESC[1mpipeline " color.raw &&
	on_pty nocolor.raw -- env NO_COLOR=1 jl-top --once --db c.db >result &&
	grep -q "^pipeline " nocolor.raw &&
	test_grep -v "$ESC" nocolor.raw &&
	on_pty empty.raw -- env NO_COLOR= jl-top --once --db c.db >result &&
	grep -qF "$ESC[1mpipeline " empty.raw &&
	on_pty dumb.raw -- env TERM=dumb jl-top --db c.db >result &&
	test "$(cat result)" = "rc=0 icanon=1 echo=1" &&
	grep -q "^pipeline " dumb.raw &&
	test_grep -v "$ESC" dumb.raw
'

test_expect_success 'the OPTIONS of jl-top.1 name the options of --help, and their defaults' '
	man_matches_help jl-top
'

test_expect_success SETSID,JQ 'the examples of jl-top.1 run' '
	test_when_finished "kill_group x" &&
	test "$(extract_examples "$SRCDIR/man/jl-top.1" ex)" = 3 &&
	mkdir exdir &&
	printf "run:\n\tjl-csv in.csv | jl-dedup -q --db run.db --key .id >out.jsonl\n" >exdir/Makefile &&
	printf "id\n1\n2\n" >exdir/in.csv &&
	(cd exdir && env -u MAKEFLAGS -u MFLAGS sh -e ../ex01.txt) >ex01.out 2>ex01.err &&
	wait_until lines_are 2 exdir/out.jsonl &&
	start x x.db &&
	priced 1 >x.fifo &&
	wait_until stages_are x "jl-dedup=1 jl-cost=1" &&
	wait_until spent_is 0.000450 --db x.db &&
	sh -e ex02.txt >ex02.out &&
	test_grep "^pipeline $(cat x.pgid), db " ex02.out &&
	sh -e ex03.txt >ex03.out &&
	grep "^{\"pgid\":$(cat x.pgid)," ex03.out >ex03.x &&
	jq -e ".failing == [] and .left > 4.9995 and .left < 4.9996" ex03.x
'

test_done
