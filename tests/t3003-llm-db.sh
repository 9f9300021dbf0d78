#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
test_description='jl-llm and the run database: replay from --db, kill -9 and rerun, | head, SIGTERM and SIGINT, quota and rerun, shared databases'
. ./lib.sh
. "$TEST_DIRECTORY/lib-llm.sh"

KEY=sk-test-db-0123456789
OPENAI_API_KEY=$KEY
export OPENAI_API_KEY

# integrity_ok DB: PRAGMA integrity_check says ok.
integrity_ok() {
	python3 -c '
import sqlite3, sys
r = sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0]
sys.exit(0 if r == "ok" else "integrity_check: %s" % r)
' "$1"
}

# chats: how many chat requests the mock has logged.
chats() {
	grep -c '"route":"chat"' "$MOCK_LOG"
}

# wait_chats N: wait (10 s at most) until the mock has logged N chat requests.
wait_chats() {
	wait_n=0
	while [ "$(chats)" -lt "$1" ]; do
		wait_n=$((wait_n + 1))
		if [ "$wait_n" -gt 200 ]; then
			echo >&4 "wait_chats: not $1 chat requests after 10 s"
			return 1
		fi
		sleep 0.05
	done
}

# A program run in the background by a non-interactive shell starts with
# SIGINT ignored: this restores the default before it runs jl-llm.
RESTORE_SIGINT='import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])'

test_expect_success 'setup: the mock' '
	mock_start --key "$KEY"
'

test_expect_success PYTHON3 '--db: a rerun replays every answer, cached, with no request' '
	records 5 >in &&
	llm -k --db run.db -p "Company: {{.name}}" <in >first &&
	n1=$(chats) &&
	llm -k --db run.db -p "Company: {{.name}}" <in >second &&
	test "$(chats)" = "$n1" &&
	test "$n1" = 5 &&
	cp first first.jsonl &&
	check second <<-\EOF
	len(R) == 5 and [r["id"] for r in R] == [1, 2, 3, 4, 5]
	all(cached(r) for r in R)
	F = [json.loads(l) for l in open("first.jsonl")]
	all(f["llm"]["cached"] is False for f in F)
	[{k: r["llm"][k] for k in ("content", "model", "provider", "usage", "finish_reason")} for r in R] == [{k: f["llm"][k] for k in ("content", "model", "provider", "usage", "finish_reason")} for f in F]
	[strip(r) for r in R] == [strip(f) for f in F]
	EOF
'

test_expect_success PYTHON3 '--db: the replay needs no network at all (--no-check, the server gone)' '
	jl-llm -m openai/mock-model --base-url http://127.0.0.1:1/v1 --no-check -k --db run.db \
		-p "Company: {{.name}}" <in >third &&
	check third <<-\EOF
	len(R) == 5 and all(cached(r) for r in R)
	EOF
'

test_expect_success PYTHON3 'the cache key is the exact request: another prompt or model is asked anew' '
	n0=$(chats) &&
	llm -k --db run.db -p "Firm: {{.name}}" <in >other &&
	llm -k --db run.db --max-tokens 50 -p "Company: {{.name}}" <in >capped &&
	test "$(chats)" = $((n0 + 10)) &&
	cat other capped >both &&
	check both <<-\EOF
	len(R) == 10 and all(ok(r) and r["llm"]["cached"] is False for r in R)
	EOF
'

test_expect_success PYTHON3 'JL_DB names the database when --db is not given' '
	n0=$(chats) &&
	JL_DB=env.db llm -k -p "Company: {{.name}}" <in >first &&
	JL_DB=env.db llm -k -p "Company: {{.name}}" <in >second &&
	test "$(chats)" = $((n0 + 5)) &&
	test -s env.db &&
	check second <<-\EOF
	all(cached(r) for r in R)
	EOF
'

test_expect_success PYTHON3 'kill -9 three times, then rerun: every key exactly once, nothing emitted lost, paid again only in flight' '
	mock_start --key "$KEY" --latency 50 &&
	records 40 >in &&
	for at in 5 15 25; do
		{ jl-llm -m openai/mock-model --base-url "$MOCK_URL/v1" --retry-base-ms 5 -j 4 --db kill.db \
			-p "Company: {{.name}}" <in >"killed.$at" 2>"killed.$at.err" & } &&
		pid=$! &&
		wait_lines "$at" "killed.$at" &&
		kill -9 "$pid" &&
		{ wait "$pid"; true; } &&
		integrity_ok kill.db || return 1
	done &&
	llm -j 4 --db kill.db -p "Company: {{.name}}" <in >final &&
	integrity_ok kill.db &&
	check final <<-\EOF
	len(R) == 40 and ids(R) == list(range(1, 41)) and all(ok(r) for r in R)
	# whatever a killed run emitted was committed first: the rerun has it cached
	before = {r["id"] for p in ("killed.5", "killed.15", "killed.25") for r in emitted(p)}
	len(before) >= 25
	all(cached(r) for r in R if r["id"] in before)
	# each kill wastes at most the requests in flight (-j 4)
	repaid() <= 3 * 4
	len(paid()) == 40
	EOF
'

test_expect_success PYTHON3 '| head -n 3: stops early (SIGPIPE), no further paid request; the db keeps what finished' '
	mock_start --key "$KEY" --latency 100 &&
	records 30 >in &&
	mkfifo pipe &&
	{ head -n 3 <pipe >head.out & } &&
	hpid=$! &&
	test_expect_code 141 llm -j 2 --db head.db -p "Company: {{.name}}" <in >pipe 2>head.err &&
	wait "$hpid" &&
	test_line_count = 3 head.out &&
	n1=$(chats) &&
	test "$n1" -le 10 &&
	llm -j 2 --db head.db -p "Company: {{.name}}" <in >rest &&
	cp head.out head.jsonl &&
	check rest <<-\EOF
	len(R) == 30 and ids(R) == list(range(1, 31)) and all(ok(r) for r in R)
	H = [json.loads(l) for l in open("head.jsonl")]
	all(cached(r) for r in R if r["id"] in {h["id"] for h in H})
	# the rerun asks only for what is not cached
	len(C) == len(paid()) + repaid()
	len(paid()) == 30
	EOF
'

test_expect_success PYTHON3 'SIGTERM: the requests in flight finish and are kept, nothing new is sent, exit 75' '
	mock_start --key "$KEY" --latency 300 &&
	records 20 >in &&
	{ jl-llm -m openai/mock-model --base-url "$MOCK_URL/v1" --retry-base-ms 5 -j 2 --db term.db \
		-p "Company: {{.name}}" <in >term.out 2>term.err & } &&
	pid=$! &&
	wait_chats 3 &&
	kill -TERM "$pid" &&
	n0=$(chats) &&
	test_expect_code 75 wait "$pid" &&
	test "$(chats)" -le $((n0 + 2)) &&
	test_grep "^jl-llm: " term.err &&
	check term.out <<-\EOF
	len(ids(R)) == len(set(ids(R)))
	# every request sent was finished and written out
	len([r for r in R if ok(r)]) == len(C) >= 3
	EOF
	llm -j 2 --db term.db -p "Company: {{.name}}" <in >term.rerun &&
	check term.rerun <<-\EOF
	len(R) == 20 and ids(R) == list(range(1, 21)) and all(ok(r) for r in R)
	len([r for r in R if cached(r)]) == len([r for r in emitted("term.out") if ok(r)])
	len(paid()) == 20 and repaid() == 0
	EOF
'

test_expect_success PYTHON3 'SIGINT: the same as SIGTERM, exit 75' '
	mock_start --key "$KEY" --latency 300 &&
	records 20 >in &&
	{ python3 -c "$RESTORE_SIGINT" jl-llm -m openai/mock-model --base-url "$MOCK_URL/v1" \
		--retry-base-ms 5 -j 2 --db int.db -p "Company: {{.name}}" <in >int.out 2>int.err & } &&
	pid=$! &&
	wait_chats 3 &&
	kill -INT "$pid" &&
	n0=$(chats) &&
	test_expect_code 75 wait "$pid" &&
	test "$(chats)" -le $((n0 + 2)) &&
	check int.out <<-\EOF
	len([r for r in R if ok(r)]) == len(C) >= 3
	EOF
'

test_expect_success PYTHON3 'quota (77), then rerun: finished records replayed, the rest done, none paid twice' '
	cat >quota.scn <<-\EOF &&
	3 path=/chat/completions error=insufficient_quota
	EOF
	mock_start --key "$KEY" --scenario quota.scn &&
	records 6 >in &&
	test_expect_code 77 llm -j 1 -k --db quota.db -p "Company: {{.name}}" <in >quota.1 2>err &&
	llm -j 1 -k --db quota.db -p "Company: {{.name}}" <in >quota.2 &&
	check quota.1 <<-\EOF &&
	[ok(r) for r in R] == [True, True, False, False, False, False]
	EOF
	check quota.2 <<-\EOF
	[r["id"] for r in R] == [1, 2, 3, 4, 5, 6] and all(ok(r) for r in R)
	[cached(r) for r in R] == [True, True, False, False, False, False]
	len(paid()) == 6 and repaid() == 0
	EOF
'

test_expect_success PYTHON3 'four processes share one --db; a rerun of every shard is all cached' '
	mock_start --key "$KEY" &&
	export MOCK_URL KEY &&
	cat >one.sh <<-\EOF &&
	jl-llm -m openai/mock-model --base-url "$MOCK_URL/v1" --retry-base-ms 5 --db shared.db \
		-p "Company: {{.name}}" <"$1" >"$1.out$2" 2>"$1.err"
	EOF
	records 5 1 >shard.1 && records 5 6 >shard.2 && records 5 11 >shard.3 && records 5 16 >shard.4 &&
	printf "%s\n" shard.1 shard.2 shard.3 shard.4 >list &&
	xargs -P 4 -I{} sh ./one.sh {} .a <list &&
	n1=$(chats) &&
	xargs -P 4 -I{} sh ./one.sh {} .b <list &&
	test "$(chats)" = "$n1" &&
	integrity_ok shared.db &&
	cat shard.?.out.a >a && cat shard.?.out.b >b &&
	check a <<-\EOF &&
	len(R) == 20 and ids(R) == list(range(1, 21)) and all(ok(r) for r in R)
	len(paid()) == 20 and repaid() == 0
	EOF
	check b <<-\EOF
	len(R) == 20 and all(cached(r) for r in R)
	EOF
'

test_expect_success PYTHON3 '--budget: nothing sent once the ledger holds it, cached answers still given, exit 75; more budget resumes' '
	records 8 >in &&
	# five answers paid and tallied by jl-cost in the ledger of run "a"
	head -n 5 in | llm -k --db budget.db -p "Company: {{.name}}" |
		jl-cost -q --db budget.db --run a --prices "$SRCDIR/examples/companies/prices.json" >/dev/null &&
	n1=$(chats) &&
	test_expect_code 75 llm -k --db budget.db --budget 0.000001 -p "Company: {{.name}}" <in >out 2>err &&
	test "$(chats)" = "$n1" &&
	test_grep "3 records held back by --budget" err &&
	check out <<-\EOF
	len(R) == 8 and [r["id"] for r in R] == list(range(1, 9))
	all(ok(r) and cached(r) for r in R[:5])
	all(err(r)["code"] == "budget_exceeded" and err(r)["attempts"] == 0 for r in R[5:])
	all("reached the budget $0.000001" in err(r)["message"] for r in R[5:])
	EOF
	# the budget of another run is not spent: --run counts only its rows
	llm -k --db budget.db --budget 0.000001 --run b -p "Company: {{.name}}" <in >out2 &&
	test "$(chats)" = $((n1 + 3)) &&
	test_expect_code 64 llm --budget 1 -p "Company: {{.name}}" <in 2>err &&
	test_grep "needs --db" err &&
	test_expect_code 64 llm --db budget.db --budget lots -p "Company: {{.name}}" <in 2>err &&
	test_grep "invalid amount" err
'

test_expect_success 'a database that cannot be created: exit 73, naming the file' '
	records 1 >in &&
	test_expect_code 73 llm --db no-such-dir/run.db -p "Company: {{.name}}" <in >out 2>err &&
	test_grep "no-such-dir/run.db" err
'

test_expect_success 'a file that is not a database is refused and left alone' '
	printf "not a database, keep me\n" >foreign.db &&
	cp foreign.db foreign.orig &&
	records 1 >in &&
	test_must_fail llm --db foreign.db -p "Company: {{.name}}" <in >out 2>err &&
	test_grep "foreign.db" err &&
	test_cmp foreign.orig foreign.db
'

test_done
