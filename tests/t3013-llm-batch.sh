#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
test_description='jl-llm --batch: OpenAI, Groq and Anthropic batches against the mock, the join by custom_id, kill -9 and rerun, retries, expiry, SIGINT, --cancel, recovery of a batch being created, usage errors, --dry-run prices, duplicates and -k, the key kept secret'
. ./lib.sh
. "$TEST_DIRECTORY/lib-llm.sh"

KEY=sk-test-batch-7c1e5a90d3b24f68
OPENAI_API_KEY=$KEY
ANTHROPIC_API_KEY=$KEY
GROQ_API_KEY=$KEY
export OPENAI_API_KEY ANTHROPIC_API_KEY GROQ_API_KEY
# a price for openai/mock-model, so that jl-cost bills its answers
PRICES=$SRCDIR/examples/companies/prices.json

# python3 may be a version manager's shim, a shell script that costs a
# second a call on a loaded machine: this script calls the interpreter itself.
if py=$(python3 -c "import sys; print(sys.executable)" 2>/dev/null) && test -x "$py"; then
	PATH=$BUILD:${py%/*}:$PATH
fi

# A program run in the background by a non-interactive shell starts with
# SIGINT ignored: this restores the default before it runs jl-llm.
RESTORE_SIGINT='import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])'

# bllm PROVIDER/MODEL ARGS...: jl-llm --batch on the mock, quick polls and retries.
bllm() {
	bllm_model=$1
	shift
	jl-llm --batch -m "$bllm_model" --base-url "$MOCK_URL/v1" --poll 0.05 --retry-base-ms 5 "$@"
}

# sql DB QUERY: the rows of QUERY on DB, one a line, columns joined by |
# (a statement that writes is committed).
sql() {
	python3 -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for row in db.execute(sys.argv[2]).fetchall():
    print("|".join("" if v is None else str(v) for v in row))
db.commit()' "$1" "$2"
}

# wait_sql DB QUERY VALUE: wait (10 s at most) until QUERY on DB gives VALUE.
wait_sql() {
	python3 -c 'import sqlite3, sys, time
db, query, want = sys.argv[1:]
for _ in range(200):
    try:
        if str(sqlite3.connect(db).execute(query).fetchone()[0]) == want:
            sys.exit(0)
    except sqlite3.Error:
        pass
    time.sleep(0.05)
sys.exit("wait_sql: %s: %s is not %s after 10 s" % (db, query, want))' "$1" "$2" "$3" 2>&4
}

# log_lines: how many lines the mock's log has.
log_lines() {
	if [ -f "$MOCK_LOG" ]; then wc -l <"$MOCK_LOG" | tr -d " "; else echo 0; fi
}

# log_since N: the mock's log after its first N lines, into new.log.
log_since() {
	tail -n "+$(($1 + 1))" "$MOCK_LOG" >new.log
}

# routes_since N: what the mock answered after its first N log lines, by route.
routes_since() {
	log_since "$1"
	for rs in files batches batch file-content; do
		printf "%s %s  " "$rs" "$(grep -c "\"route\":\"$rs\"" new.log)"
	done
}

# wait_route ROUTE [N]: wait (10 s at most) until the mock has logged N (1)
# requests of ROUTE.
wait_route() {
	wr_n=0
	while [ "$(if [ -f "$MOCK_LOG" ]; then grep -c "\"route\":\"$1\"" "$MOCK_LOG"; else echo 0; fi)" -lt "${2:-1}" ]; do
		wr_n=$((wr_n + 1))
		if [ "$wr_n" -gt 200 ]; then
			echo >&4 "wait_route: not ${2:-1} requests of $1 after 10 s"
			return 1
		fi
		sleep 0.05
	done
}

# lists PATH: the mock answers GET PATH, a list of batches, with 200.
lists() {
	python3 -c 'import sys, urllib.request
r = urllib.request.Request(sys.argv[1], headers={"Authorization": "Bearer " + sys.argv[2],
    "x-api-key": sys.argv[2], "anthropic-version": "2023-06-01"})
try:
    sys.exit(0 if urllib.request.urlopen(r, timeout=10).status == 200 else 1)
except Exception:
    sys.exit(1)' "$MOCK_URL$1" "$KEY"
}
# A rerun finds a batch whose create was sent but whose id was never stored
# only in the provider's list of batches: the mock may not have that route yet.
test_lazy_prereq BATCH_LIST 'lists "/v1/batches?limit=1"'
test_lazy_prereq MSGBATCH_LIST 'lists "/v1/messages/batches?limit=1"'

# stopped PID: wait (2 s at most) until PID is stopped, a zombie or gone.
stopped() {
	st_n=0
	while [ -r "/proc/$1/stat" ]; do
		case $(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1) in
		T | t | Z | X | "") return 0 ;;
		esac
		st_n=$((st_n + 1))
		if [ "$st_n" -gt 200 ]; then
			echo >&4 "stopped: $1 does not stop"
			return 1
		fi
		sleep 0.01
	done
}

# creating DB: how many batches DB holds in state "creating" (0 when it has
# no batch table yet, ? when it cannot be read).
creating() {
	python3 -c 'import os, sqlite3, sys
if not os.path.exists(sys.argv[1]):
    sys.exit(print(0))
try:
    print(sqlite3.connect(sys.argv[1]).execute(
        "SELECT count(*) FROM llm_batches WHERE state = ?", ("creating",)).fetchone()[0])
except sqlite3.OperationalError as e:
    print(0 if "no such table" in str(e) else "?")' "$1"
}

# kill9 PID DB: kill -9 PID. Unless the mock lists batches ($LISTS), not at
# a moment when a batch of DB is "creating" (its create request may be out):
# the process is stopped, DB read, and let go on for a moment if so.
kill9() {
	k9_n=0
	while kill -STOP "$1" 2>/dev/null; do
		stopped "$1" || return 1
		if [ -n "$LISTS" ] || [ "$(creating "$2")" = 0 ]; then
			kill -KILL "$1"
			return 0
		fi
		kill -CONT "$1"
		k9_n=$((k9_n + 1))
		if [ "$k9_n" -gt 500 ]; then
			echo >&4 "kill9: $2 keeps a batch in state creating"
			return 1
		fi
		sleep 0.002
	done
	return 0 # it had exited already
}

# complete FILE...: the complete lines of the FILEs (a killed run may leave a partial last line).
complete() {
	python3 -c 'import sys
for path in sys.argv[1:]:
    text = open(path, encoding="utf-8", errors="surrogateescape").read()
    for line in text.split("\n")[:-1]:
        if line.strip():
            sys.stdout.write(line + "\n")' "$@"
}

# --- usage ----------------------------------------------------------------------

test_expect_success 'usage: --batch needs --db, one model, no --truncate (64); --cancel and --batch-size need --batch (64)' '
	records 2 >in &&
	no_input_read in 64 jl-llm --batch -m openai/mock-model -p "x {{.name}}" &&
	test_grep "needs --db" nir.err &&
	no_input_read in 64 jl-llm --batch --db u.db -m openai/mock-model --fallback openai/other -p "x {{.name}}" &&
	test_grep "fallback" nir.err &&
	no_input_read in 64 jl-llm --batch --db u.db --truncate -m openai/mock-model -p "x {{.name}}" &&
	test_grep "truncate" nir.err &&
	no_input_read in 64 jl-llm --cancel --db u.db -m openai/mock-model -p "x {{.name}}" &&
	test_grep "\-\-cancel goes with --batch" nir.err &&
	no_input_read in 64 jl-llm --batch-size 5 --db u.db -m openai/mock-model -p "x {{.name}}" &&
	test_grep "\-\-batch-size goes with --batch" nir.err &&
	test_expect_code 64 jl-llm --batch --cancel -m openai/mock-model -p "x {{.name}}" </dev/null 2>err &&
	test_grep "needs --db" err
'

test_expect_success 'usage: a provider without a batch API is 78, naming it' '
	records 2 >in &&
	no_input_read in 78 env TOGETHER_API_KEY=x jl-llm --batch --db u.db -m together/some-model -p "x {{.name}}" &&
	test_grep "together has no batch API" nir.err &&
	no_input_read in 78 env MISTRAL_API_KEY=x jl-llm --batch --db u.db -m mistral/some-model -p "x {{.name}}" &&
	test_grep "mistral has no batch API" nir.err
'

test_expect_success '--batch-size: above the provider limit is 78 (openai, groq: 50,000); the limit itself is taken' '
	records 2 >in &&
	no_input_read in 78 jl-llm --batch --db u.db --batch-size 50001 -m openai/mock-model -p "x {{.name}}" &&
	test_grep "at most 50000" nir.err &&
	no_input_read in 78 jl-llm --batch --db u.db --batch-size 50001 -m groq/some-model -p "x {{.name}}" &&
	test_grep "groq holds at most 50000" nir.err &&
	# no input, no request: the server is never asked
	jl-llm --batch --no-check --db u.db --batch-size 50000 -m openai/mock-model --base-url http://127.0.0.1:9/v1 \
		-p "x {{.name}}" </dev/null >out 2>err &&
	test_must_be_empty out &&
	jl-llm --batch --no-check --db u.db --batch-size 100000 -m anthropic/some-model --base-url http://127.0.0.1:9/v1 \
		-p "x {{.name}}" </dev/null >out 2>err &&
	test_must_be_empty out
'

# --batch-size over the provider's limit is a configuration error (78) for
# every provider, Anthropic's 100,000 included.
test_expect_success '--batch-size above the limit of Anthropic (100,000) is 78, as for the others' '
	records 2 >in &&
	no_input_read in 78 jl-llm --batch --db u.db --batch-size 100001 -m anthropic/some-model -p "x {{.name}}" &&
	test_grep "anthropic holds at most 100000" nir.err
'

test_expect_success PYTHON3 '--dry-run --batch: .llm.batch true, and jl-cost --estimate prices it at half the on-demand price' '
	printf "{\"name\":\"Acme\"}\n{\"name\":\"Bolt\"}\n" >in &&
	jl-llm -q --dry-run -m openai/gpt-4o-mini --max-tokens 1000 -p "Summarise {{.name}}" <in >dry.plain &&
	jl-llm -q --dry-run --batch --db dry.db -m openai/gpt-4o-mini --max-tokens 1000 \
		-p "Summarise {{.name}}" <in >dry.batch &&
	check dry.batch <<-\EOF &&
	len(R) == 2 and all(r["llm"]["batch"] is True for r in R)
	P = [json.loads(l) for l in open("dry.plain")]
	all("batch" not in p["llm"] for p in P)
	[r["llm"]["request"] for r in R] == [p["llm"]["request"] for p in P]
	EOF
	jl-cost --estimate <dry.plain >est.plain &&
	jl-cost --estimate <dry.batch >est.batch &&
	# 2 x (8 x 0.15/M + 1000 x 0.60/M) on demand; gpt-4o-mini batches at half that
	test_grep "^\[ESTIMATE\] 2 records, \$0.0012012 " est.plain &&
	test_grep "^\[ESTIMATE\] 2 records, \$0.0006006 " est.batch
'

# --- the headline: 2,000 records, batches of 500 ------------------------------------

test_expect_success PYTHON3 'OpenAI: 2,000 records, --batch-size 500: 4 uploads, 4 batches, no chat request, each answer on its own record' '
	mock_start --key "$KEY" --batch-time 0.5 &&
	records 2000 >in &&
	# the synchronous answers, from the same mock, to join against
	llm -q -j 8 -p "Company: {{.name}}" <in >sync.out &&
	n0=$(log_lines) &&
	jl-llm --batch -m openai/mock-model --base-url "$MOCK_URL/v1" --db oa.db --batch-size 500 \
		--poll 0.1 -p "Company: {{.name}}" <in >out 2>err &&
	log_since "$n0" &&
	check out new.log <<-\EOF
	len(R) == 2000 and ids(R) == list(range(1, 2001))
	all(ok(r) for r in R)
	sorted(map(json.dumps, map(strip, R))) == sorted(map(json.dumps, I))
	S = {s["id"]: s["llm"] for s in map(json.loads, open("sync.out"))}
	len(S) == 2000 and all(s["content"].startswith("Mock summary ") for s in S.values())
	# the answer of each record is the one its own prompt gets
	all(r["llm"]["content"] == S[r["id"]]["content"] and r["llm"]["usage"] == S[r["id"]]["usage"] for r in R)
	len({s["content"] for s in S.values()}) > 1900
	all(r["llm"]["batch"] is True and r["llm"]["cached"] is False and r["llm"]["attempts"] == 1 for r in R)
	all(r["llm"]["model"] == "mock-model" and r["llm"]["provider"] == "openai" and r["llm"]["finish_reason"] == "stop" for r in R)
	all(isinstance(r["llm"]["latency_ms"], int) and r["llm"]["latency_ms"] >= 0 for r in R)
	routes = collections.Counter(m["route"] for m in M)
	routes["files"] == 4 and routes["batches"] == 4 and routes["file-content"] == 4
	routes["chat"] == 0 and routes["messages"] == 0
	all(m["status"] == 200 for m in M)
	B = sqlite3.connect("oa.db").execute("SELECT remote_id, items, state, file_id FROM llm_batches ORDER BY id").fetchall()
	[b[1:3] for b in B] == [(500, "collected")] * 4 and all(b[3].startswith("file-") for b in B)
	# the batches hold the records in input order, 500 each
	all(r["llm"]["batch_id"] == B[(r["id"] - 1) // 500][0] for r in R)
	sqlite3.connect("oa.db").execute("SELECT count(*) FROM llm_batch_items").fetchone()[0] == 0
	EOF
'

test_expect_success PYTHON3 'Anthropic: 2,000 records, --batch-size 500: 4 message batches, no messages request, each answer on its own record' '
	mock_start --key "$KEY" --batch-time 0.5 &&
	records 2000 >in &&
	jl-llm -q -j 8 -m anthropic/mock-claude --base-url "$MOCK_URL/v1" -p "Company: {{.name}}" <in >sync.out &&
	n0=$(log_lines) &&
	jl-llm --batch -m anthropic/mock-claude --base-url "$MOCK_URL/v1" --db an.db --batch-size 500 \
		--poll 0.1 -p "Company: {{.name}}" <in >out 2>err &&
	log_since "$n0" &&
	check out new.log <<-\EOF
	len(R) == 2000 and ids(R) == list(range(1, 2001))
	all(ok(r) for r in R)
	sorted(map(json.dumps, map(strip, R))) == sorted(map(json.dumps, I))
	S = {s["id"]: s["llm"] for s in map(json.loads, open("sync.out"))}
	all(r["llm"]["content"] == S[r["id"]]["content"] and r["llm"]["usage"] == S[r["id"]]["usage"] for r in R)
	len({s["content"] for s in S.values()}) > 1900
	all(r["llm"]["batch"] is True and r["llm"]["cached"] is False and r["llm"]["attempts"] == 1 for r in R)
	all(r["llm"]["provider"] == "anthropic" and r["llm"]["model"] == "mock-claude" for r in R)
	routes = collections.Counter(m["route"] for m in M)
	routes["message-batches"] == 4 and routes["message-batch-results"] == 4
	routes["chat"] == 0 and routes["messages"] == 0 and routes["files"] == 0
	B = sqlite3.connect("an.db").execute("SELECT remote_id, items, state FROM llm_batches ORDER BY id").fetchall()
	[b[1:] for b in B] == [(500, "collected")] * 4
	all(r["llm"]["batch_id"] == B[(r["id"] - 1) // 500][0] for r in R)
	EOF
'

test_expect_success PYTHON3 'a rerun of the same command: every answer from the cache, not one request' '
	n0=$(log_lines) &&
	jl-llm --batch --no-check -m anthropic/mock-claude --base-url "$MOCK_URL/v1" --db an.db \
		--batch-size 500 --poll 0.1 -p "Company: {{.name}}" <in >again 2>err &&
	test "$(log_lines)" = "$n0" &&
	cp out first.jsonl &&
	check again <<-\EOF
	len(R) == 2000 and ids(R) == list(range(1, 2001))
	all(cached(r) for r in R)
	F = {f["id"]: f["llm"] for f in map(json.loads, open("first.jsonl"))}
	all(r["llm"]["content"] == F[r["id"]]["content"] and r["llm"]["batch_id"] == F[r["id"]]["batch_id"] for r in R)
	EOF
'

test_expect_success PYTHON3 'Groq: the OpenAI files and batches under its base URL' '
	mock_start --key "$KEY" --batch-time 0.2 &&
	records 12 >in &&
	bllm groq/mock-llama --db groq.db --batch-size 5 -p "Company: {{.name}}" <in >out 2>err &&
	check out <<-\EOF
	len(R) == 12 and ids(R) == list(range(1, 13)) and all(ok(r) for r in R)
	all(r["llm"]["provider"] == "groq" and r["llm"]["batch"] is True for r in R)
	routes = collections.Counter(m["route"] for m in M)
	routes["files"] == 3 and routes["batches"] == 3 and routes["chat"] == 0
	all(m["path"].startswith("/v1/") for m in M)
	EOF
'

# --- kill -9 and rerun ------------------------------------------------------------

test_expect_success PYTHON3,NO_VALGRIND 'kill -9 at ten random moments, then a rerun: every record once, no batch created twice, nothing billed twice' '
	# 40 ms an answer: the 40 batches take about 3 s to submit (an upload and a
	# create each), a round of polls up to 0.6 s, the downloads 1.6 s; each
	# run starts over reading the input and goes on where the last one stopped
	mock_start --key "$KEY" --batch-time 1 --latency 40 &&
	if lists "/v1/batches?limit=1"; then LISTS=t; else LISTS=; fi &&
	records 1000 >in &&
	# ten moments, each run killed within 0.1 to 1.6 s of its start
	awk "BEGIN { srand(3013); for (i = 1; i <= 10; i++) printf \"%.3f\\n\", 0.1 + rand() * 1.5 }" >moments &&
	i=0 &&
	while read -r at; do
		i=$((i + 1)) &&
		n0=$(log_lines) &&
		{ jl-llm --batch -m openai/mock-model --base-url "$MOCK_URL/v1" --db batchkill3013.db --batch-size 25 \
			--poll 0.1 -p "Company: {{.name}}" <in >"killed.$i" 2>"killed.$i.err" & } &&
		pid=$! &&
		sleep "$at" &&
		kill9 "$pid" batchkill3013.db || return 1
		wait "$pid"
		rc=$?
		echo "$rc" >>codes
		echo "run $i: killed after $at s: exit $rc, $(wc -l <"killed.$i") lines out; $(routes_since "$n0")" >&3
	done <moments &&
	# kills landed while the runs had work to do, not only after they ended
	test "$(grep -c "^137\$" codes)" -ge 3 &&
	jl-llm --batch -m openai/mock-model --base-url "$MOCK_URL/v1" --db batchkill3013.db --batch-size 25 \
		--poll 0.1 -p "Company: {{.name}}" <in >final 2>final.err &&
	complete killed.1 killed.2 killed.3 killed.4 killed.5 killed.6 killed.7 killed.8 killed.9 \
		killed.10 final >all.jsonl &&
	jl-cost --db ledger.db --prices "$PRICES" <all.jsonl >billed 2>billed.err &&
	check final <<-\EOF
	len(R) == 1000 and ids(R) == list(range(1, 1001)) and all(ok(r) for r in R)
	A = [json.loads(l) for l in open("all.jsonl")]
	paid = collections.Counter(a["name"] for a in A if ok(a) and a["llm"]["cached"] is False)
	# no name written twice as a fresh answer
	max(paid.values(), default=0) <= 1
	# what an earlier run wrote is a replay in the last one
	before = {a["id"] for a in A[:-1000] if ok(a)}
	all(cached(r) for r in R if r["id"] in before)
	db = sqlite3.connect("batchkill3013.db")
	B = db.execute("SELECT remote_id, items, state FROM llm_batches").fetchall()
	creates = [m for m in M if m["route"] == "batches" and m["method"] == "POST" and m["status"] == 200]
	# one row for each batch created, none created twice
	len(creates) == len(B) == len({b[0] for b in B}) and all(b[0] for b in B)
	# every one collected: a batch a kill left "submitted" with all its
	# results read is settled by the next run
	all(b[2] == "collected" for b in B)
	# each request went out in exactly one batch (no failures: no retries)
	sum(b[1] for b in B) == 1000
	db.execute("SELECT count(*) FROM llm_batch_items").fetchone()[0] == 0
	db.execute("SELECT count(*) FROM llm_cache").fetchone()[0] == 1000
	len([m for m in M if m["route"] in ("chat", "messages")]) == 0
	# jl-cost billed each fresh answer once: no record twice in the ledger
	L = sqlite3.connect("ledger.db").execute("SELECT count(*), count(DISTINCT record_hash) FROM cost_ledger").fetchone()
	L[0] == L[1] == len(paid) <= 1000
	EOF
'

# An answered item stays in the database, marked answered, until the record
# that bills it is written: a run killed between collecting a batch and
# writing its records leaves them to the rerun, which bills them (cached:
# false) instead of replaying them. The next test isolates it.
test_expect_success PYTHON3,NO_VALGRIND 'kill -9 and rerun: the ledger bills each of the 1,000 paid answers once' '
	test "$(sql ledger.db "SELECT count(*) FROM cost_ledger")" = 1000
'

# Killed while the second batch's results download hangs, after the first
# batch's answers were committed: the rerun still bills all 10.
test_expect_success PYTHON3 'kill -9 after a batch was collected, before its records were written: the rerun still bills them once' '
	cat >stall.scn <<-\EOF &&
	2 path=/content stall
	EOF
	mock_start --key "$KEY" --batch-time 0.3 --scenario stall.scn &&
	records 10 >in &&
	{ jl-llm --batch -m openai/mock-model --base-url "$MOCK_URL/v1" --db gap.db --batch-size 5 \
		--poll 0.5 -p "Company: {{.name}}" <in >gap.1 2>gap.1.err & } &&
	pid=$! &&
	wait_route file-content &&
	wait_sql gap.db "SELECT count(*) FROM llm_cache" 5 &&
	kill -9 "$pid" &&
	{ wait "$pid"; true; } &&
	jl-llm --batch -m openai/mock-model --base-url "$MOCK_URL/v1" --db gap.db --batch-size 5 \
		--poll 0.05 -p "Company: {{.name}}" <in >gap.2 2>gap.2.err &&
	complete gap.1 gap.2 >gap.all &&
	jl-cost --db gap-ledger.db --prices "$PRICES" <gap.all >/dev/null 2>&1 &&
	check gap.2 <<-\EOF
	len(R) == 10 and all(ok(r) for r in R)
	# ten answers paid at the provider (two batches of five, each created once)
	len([m for m in M if m["route"] == "batches" and m["status"] == 200]) == 2
	sqlite3.connect("gap-ledger.db").execute("SELECT count(*) FROM cost_ledger").fetchone()[0] == 10
	EOF
'

# --- failures -----------------------------------------------------------------------

test_expect_success PYTHON3 '--batch-fail-rate 0.3: every record ends ok, the failed ones retried in later batches holding exactly them' '
	mock_start --key "$KEY" --batch-time 0.2 --batch-fail-rate 0.3 --seed 7 &&
	records 40 >in &&
	bllm openai/mock-model --db fail.db -p "Company: {{.name}}" <in >out 2>err &&
	check out <<-\EOF
	len(R) == 40 and ids(R) == list(range(1, 41)) and all(ok(r) for r in R)
	A = [r["llm"]["attempts"] for r in R]
	any(a > 1 for a in A) and min(A) == 1
	B = sqlite3.connect("fail.db").execute("SELECT remote_id, items FROM llm_batches ORDER BY id").fetchall()
	# batch k held the requests that needed k attempts or more, and answered those that needed k
	len(B) == max(A) >= 2
	[b[1] for b in B] == [sum(1 for a in A if a >= k) for k in range(1, len(B) + 1)]
	all(r["llm"]["batch_id"] == B[r["llm"]["attempts"] - 1][0] for r in R)
	len([m for m in M if m["route"] == "batches"]) == len(B)
	EOF
'

test_expect_success PYTHON3 '--retries 0: the failed items leave as _error with the mock 500; the same ones as needed a retry above' '
	mock_start --key "$KEY" --batch-time 0.2 --batch-fail-rate 0.3 --seed 7 &&
	bllm openai/mock-model --db fail0.db --retries 0 -p "Company: {{.name}}" <in >out0 2>err &&
	cp out retried.jsonl &&
	check out0 <<-\EOF &&
	len(R) == 40 and ids(R) == list(range(1, 41))
	E = [r for r in R if not ok(r)]
	retried = sorted(r["id"] for r in map(json.loads, open("retried.jsonl")) if r["llm"]["attempts"] > 1)
	ids(E) == retried
	all(err(r)["code"] == "http_500" and err(r)["status"] == 500 and err(r)["attempts"] == 1 for r in E)
	all("The server had an error" in err(r)["message"] for r in E)
	all(strip({k: v for k, v in r.items() if k != "_error"}) == {"id": r["id"], "name": "Company %d" % r["id"]} for r in E)
	len([m for m in M if m["route"] == "batches"]) == 1
	EOF
	# the same failures again, from a mock started alike: --strict makes them exit 1
	mock_start --key "$KEY" --batch-time 0.2 --batch-fail-rate 0.3 --seed 7 &&
	test_expect_code 1 bllm openai/mock-model --db fail1.db --retries 0 --strict -p "Company: {{.name}}" <in >out1 2>err &&
	grep _error out0 >errors0 &&
	grep _error out1 >errors1 &&
	test_cmp errors0 errors1
'

test_expect_success PYTHON3 'a model the provider does not know: each record an _error model_not_found (404), exit 0; 1 with --strict' '
	mock_start --key "$KEY" --batch-time 0.2 --model only-this-model &&
	records 6 >in &&
	bllm openai/mock-model --db nomodel.db -p "Company: {{.name}}" <in >out 2>err &&
	bllm anthropic/mock-claude --db nomodel.db -p "Company: {{.name}}" <in >out.an 2>err.an &&
	cat out out.an >both &&
	check both <<-\EOF &&
	len(R) == 12 and not any(ok(r) for r in R)
	all(err(r)["code"] == "model_not_found" and err(r)["status"] == 404 and err(r)["attempts"] == 1 for r in R)
	all("mock-model" in err(r)["message"] for r in R[:6]) and all("mock-claude" in err(r)["message"] for r in R[6:])
	# refused for good: not retried in another batch
	len([m for m in M if m["route"] in ("batches", "message-batches")]) == 2
	EOF
	test_expect_code 1 bllm openai/mock-model --db nomodel.db --strict -p "Company: {{.name}}" <in >out 2>err
'

test_expect_success PYTHON3 '--batch-expire: the expired half goes in a new batch and is answered there; nothing lost' '
	mock_start --key "$KEY" --batch-time 0.2 --batch-expire &&
	records 8 >in &&
	# each batch expires with half its requests done: 8, then 4, then 2
	bllm openai/mock-model --db exp.db --retries 2 -p "Company: {{.name}}" <in >out 2>err &&
	bllm anthropic/mock-claude --db exp.db --retries 2 -p "Company: {{.name}}" <in >out.an 2>err.an &&
	check out <<-\EOF &&
	len(R) == 8 and ids(R) == list(range(1, 9))
	sorted(r["llm"]["attempts"] for r in R if ok(r)) == [1, 1, 1, 1, 2, 2, 3]
	[err(r)["code"] for r in R if not ok(r)] == ["batch_expired"]
	[err(r)["attempts"] for r in R if not ok(r)] == [3]
	B = sqlite3.connect("exp.db").execute("SELECT remote_id, items FROM llm_batches WHERE target LIKE ? ORDER BY id", ("openai/%",)).fetchall()
	[b[1] for b in B] == [8, 4, 2]
	all(r["llm"]["batch_id"] == B[r["llm"]["attempts"] - 1][0] for r in R if ok(r))
	EOF
	check out.an <<-\EOF
	len(R) == 8 and ids(R) == list(range(1, 9))
	sorted(r["llm"]["attempts"] for r in R if ok(r)) == [1, 1, 1, 1, 2, 2, 3]
	[err(r)["code"] for r in R if not ok(r)] == ["batch_expired"]
	B = sqlite3.connect("exp.db").execute("SELECT items FROM llm_batches WHERE target LIKE ? ORDER BY id", ("anthropic/%",)).fetchall()
	B == [(8,), (4,), (2,)]
	EOF
'

test_expect_success PYTHON3 '--json: the answer parsed; one that is not JSON leaves as bad_json_output with _raw_output' '
	mock_start --key "$KEY" --batch-time 0.2 &&
	records 3 >in &&
	bllm openai/mock-model --db json.db --json -p "Company: {{.name}}" <in >out 2>err &&
	# a reply cut to 5 tokens is not JSON
	bllm openai/mock-model --db json.db --json --max-tokens 5 -p "Company: {{.name}}" <in >cut 2>err &&
	check out <<-\EOF &&
	len(R) == 3 and all(ok(r) for r in R)
	# the mock says which prompt it answered: each record has its own
	all(r["llm"]["content"]["reason"].endswith(" of: Company: " + r["name"]) for r in R)
	EOF
	check cut <<-\EOF
	len(R) == 3 and ids(R) == [1, 2, 3]
	all(err(r)["code"] == "bad_json_output" and err(r)["status"] == 200 for r in R)
	all(isinstance(r["_raw_output"], str) and r["_raw_output"].startswith("{\"tier\":") for r in R)
	all("llm" not in r for r in R)
	EOF
'

# --- SIGINT, --cancel -------------------------------------------------------------

test_expect_success PYTHON3 'SIGINT while polling: exit 75, each record an _error interrupted naming its batch, stderr names them' '
	mock_start --key "$KEY" --batch-time 1.5 &&
	records 20 >in &&
	{ python3 -c "$RESTORE_SIGINT" jl-llm --batch -m openai/mock-model --base-url "$MOCK_URL/v1" \
		--poll 0.05 --batch-size 8 --db int.db -p "Company: {{.name}}" <in >int.out 2>int.err & } &&
	pid=$! &&
	# the polls begin once every batch is submitted
	wait_route batch &&
	kill -INT "$pid" &&
	test_expect_code 75 wait "$pid" &&
	check int.out <<-\EOF
	len(R) == 20 and ids(R) == list(range(1, 21)) and not any(ok(r) for r in R)
	B = [b[0] for b in sqlite3.connect("int.db").execute("SELECT remote_id FROM llm_batches WHERE state = ? ORDER BY id", ("submitted",))]
	len(B) == 3 and all(B)
	all(err(r)["code"] == "interrupted" for r in R)
	all(err(r)["message"] == "in batch %s, still running at the provider: rerun the same command to collect it" % B[(r["id"] - 1) // 8] for r in R)
	E = open("int.err").read()
	all("batch %s is left running" % b in E for b in B)
	EOF
'

test_expect_success PYTHON3 'the rerun collects the interrupted batches, creating none, and answers every record' '
	n0=$(log_lines) &&
	jl-llm --batch -m openai/mock-model --base-url "$MOCK_URL/v1" --poll 0.05 --batch-size 8 \
		--db int.db -p "Company: {{.name}}" <in >rerun.out 2>rerun.err &&
	log_since "$n0" &&
	check rerun.out new.log <<-\EOF
	len(R) == 20 and ids(R) == list(range(1, 21)) and all(ok(r) for r in R)
	all(r["llm"]["cached"] is False for r in R)
	routes = collections.Counter(m["route"] for m in M)
	routes["files"] == 0 and routes["batches"] == 0 and routes["file-content"] == 3
	I0 = {r["id"]: r["_error"]["message"] for r in map(json.loads, open("int.out"))}
	all(r["llm"]["batch_id"] in I0[r["id"]] for r in R)
	EOF
'

test_expect_success PYTHON3,NO_VALGRIND '--cancel: cancels the submitted batch, keeps what it finished; the rerun sends only the rest' '
	mock_start --key "$KEY" --batch-time 4 &&
	records 20 >in &&
	{ python3 -c "$RESTORE_SIGINT" jl-llm --batch -m openai/mock-model --base-url "$MOCK_URL/v1" \
		--poll 0.05 --db cancel.db -p "Company: {{.name}}" <in >c1.out 2>c1.err & } &&
	pid=$! &&
	wait_route batch &&
	# in progress from 1 s to 3 s: some items done by the cancel, not all
	sleep 1.6 &&
	kill -INT "$pid" &&
	test_expect_code 75 wait "$pid" &&
	n0=$(log_lines) &&
	no_input_read in 0 jl-llm --batch --cancel -m openai/mock-model --base-url "$MOCK_URL/v1" \
		--poll 0.05 --db cancel.db -p "Company: {{.name}}" &&
	log_since "$n0" &&
	cp new.log cancel.log &&
	check c1.out cancel.log <<-\EOF &&
	routes = collections.Counter(m["route"] for m in M)
	routes["batch-cancel"] == 1 and routes["batches"] == 0 and routes["files"] == 0
	[m["status"] for m in M if m["route"] == "batch-cancel"] == [200]
	db = sqlite3.connect("cancel.db")
	db.execute("SELECT state FROM llm_batches").fetchall() == [("collected",)]
	db.execute("SELECT count(*) FROM llm_batch_items WHERE answered = 0").fetchone()[0] == 0
	0 < db.execute("SELECT count(*) FROM llm_cache").fetchone()[0] < 20
	# what it finished waits, answered, for the record that bills it
	db.execute("SELECT count(*) FROM llm_batch_items").fetchone()[0] == db.execute("SELECT count(*) FROM llm_cache").fetchone()[0]
	EOF
	kept=$(sql cancel.db "SELECT count(*) FROM llm_cache") &&
	n1=$(log_lines) &&
	jl-llm --batch -m openai/mock-model --base-url "$MOCK_URL/v1" --poll 0.05 --db cancel.db \
		-p "Company: {{.name}}" <in >c2.out 2>c2.err &&
	log_since "$n1" &&
	check c2.out new.log <<-EOF
	len(R) == 20 and ids(R) == list(range(1, 21)) and all(ok(r) for r in R)
	# the answers of the cancelled batch are written (and billed) now, not as replays
	not any(cached(r) for r in R)
	B = sqlite3.connect("cancel.db").execute("SELECT remote_id, items FROM llm_batches ORDER BY id").fetchall()
	len(B) == 2 and B[1][1] == 20 - $kept
	len([r for r in R if r["llm"]["batch_id"] == B[0][0]]) == $kept
	len([r for r in R if r["llm"]["batch_id"] == B[1][0]]) == 20 - $kept
	collections.Counter(m["route"] for m in M)["batches"] == 1
	EOF
'

# The answers a cancelled batch finished wait, answered, in the database:
# the rerun that writes them bills them once.
test_expect_success PYTHON3,NO_VALGRIND '--cancel: the answers the cancelled batch finished are billed once across the runs' '
	complete c1.out c2.out | jl-cost --db cancel-ledger.db --prices "$PRICES" >/dev/null 2>&1 &&
	test "$(sql cancel-ledger.db "SELECT count(*) FROM cost_ledger")" = 20
'

# --- a batch created by a run that never learned its id -------------------------------

test_expect_success PYTHON3 'setup: a batch submitted, the run interrupted while it runs, its id then forgotten as if the run ended before the create answered' '
	mock_start --key "$KEY" --batch-time 2 &&
	records 6 >in &&
	for p in openai/mock-model:batch anthropic/mock-claude:message-batch; do
		poll=${p#*:} &&
		p=${p%:*} &&
		db=recover-${p%%/*}.db &&
		{ python3 -c "$RESTORE_SIGINT" jl-llm --batch -m "$p" --base-url "$MOCK_URL/v1" \
			--poll 0.05 --db "$db" -p "Company: {{.name}}" <in >"$db.out" 2>"$db.err" & } &&
		pid=$! &&
		# the first poll: the batch is submitted
		wait_route "$poll" &&
		sleep 0.2 &&
		kill -INT "$pid" &&
		test_expect_code 75 wait "$pid" &&
		sql "$db" "SELECT remote_id FROM llm_batches" >"$db.remote" &&
		test_line_count = 1 "$db.remote" &&
		sql "$db" "UPDATE llm_batches SET state = '\''creating'\'', remote_id = NULL" || return 1
	done
'

test_expect_success PYTHON3,BATCH_LIST 'OpenAI: the rerun finds the batch by its token and adopts it, creating none' '
	n0=$(log_lines) &&
	bllm openai/mock-model --db recover-openai.db -p "Company: {{.name}}" <in >out 2>err &&
	log_since "$n0" &&
	check out new.log <<-\EOF
	len(R) == 6 and all(ok(r) for r in R)
	remote = open("recover-openai.db.remote").read().strip()
	all(r["llm"]["batch_id"] == remote for r in R)
	routes = collections.Counter(m["route"] for m in M)
	routes["batches-list"] == 1 and routes["batches"] == 0
	routes["files"] == 0
	sqlite3.connect("recover-openai.db").execute("SELECT remote_id, state FROM llm_batches").fetchall() == [(remote, "collected")]
	EOF
'

test_expect_success PYTHON3,MSGBATCH_LIST 'Anthropic: the rerun finds the batch by its size and time and adopts it, creating none' '
	n0=$(log_lines) &&
	bllm anthropic/mock-claude --db recover-anthropic.db -p "Company: {{.name}}" <in >out 2>err &&
	log_since "$n0" &&
	check out new.log <<-\EOF
	len(R) == 6 and all(ok(r) for r in R)
	remote = open("recover-anthropic.db.remote").read().strip()
	all(r["llm"]["batch_id"] == remote for r in R)
	routes = collections.Counter(m["route"] for m in M)
	routes["message-batches-list"] == 1 and routes["message-batches"] == 0
	EOF
'

test_expect_success PYTHON3 'a download that fails: retried; out of retries, the message is the provider'"'"'s own' '
	cat >dl500.scn <<-\EOF &&
	1-2 path=/content error=server
	EOF
	mock_start --key "$KEY" --batch-time 0.2 --scenario dl500.scn &&
	records 3 >in &&
	bllm openai/mock-model --db dl1.db -p "Company: {{.name}}" <in >dl1.out 2>dl1.err &&
	test "$(grep -c "\"cached\":false" dl1.out)" = 3 &&
	cat >dl500.scn <<-\EOF &&
	* path=/content error=server
	EOF
	mock_start --key "$KEY" --batch-time 0.2 --scenario dl500.scn &&
	test_expect_code 69 bllm openai/mock-model --db dl2.db --retries 1 -p "Company: {{.name}}" \
		<in >dl2.out 2>dl2.err &&
	test_grep "downloading the results: HTTP 500: The server had an error while processing your request" dl2.err
'

# A stop (SIGINT) during the upload: the create is never sent, so the batch
# is dropped rather than left "creating", and the rerun needs no list.
test_expect_success PYTHON3 'SIGINT during the upload: no create was sent, so no batch is left creating; the rerun needs no list' '
	cat >slow-upload.scn <<-\EOF &&
	1 path=/files delay=2500
	EOF
	mock_start --key "$KEY" --batch-time 0.2 --scenario slow-upload.scn &&
	records 5 >in &&
	{ python3 -c "$RESTORE_SIGINT" jl-llm --batch -m openai/mock-model --base-url "$MOCK_URL/v1" \
		--poll 0.05 --db upload.db -p "Company: {{.name}}" <in >up.out 2>up.err & } &&
	pid=$! &&
	# the batch row is committed before the upload starts
	wait_sql upload.db "SELECT count(*) FROM llm_batches" 1 &&
	kill -INT "$pid" &&
	test_expect_code 75 wait "$pid" &&
	test_grep -v "\"route\":\"batches\"" "$MOCK_LOG" &&
	check up.out <<-\EOF &&
	len(R) == 5 and all(err(r)["code"] == "not_sent" for r in R)
	EOF
	test "$(sql upload.db "SELECT count(*) FROM llm_batches WHERE state = '\''creating'\''")" = 0 &&
	bllm openai/mock-model --db upload.db -p "Company: {{.name}}" <in >up2.out 2>up2.err &&
	check up2.out <<-\EOF
	len(R) == 5 and all(ok(r) for r in R)
	len([m for m in M if m["route"] == "batches" and m["method"] == "POST"]) == 1
	EOF
'

# A batch out at another --base-url is neither forgotten nor paid again: a
# run against a new base leaves its records interrupted, naming the batch
# and the base where it runs (75).
test_expect_success PYTHON3 'a batch still running at another --base-url is not forgotten, nor paid again, by a run against a new one' '
	mock_start --key "$KEY" --batch-time 3 &&
	OLD=$MOCK_URL &&
	records 5 >in &&
	{ python3 -c "$RESTORE_SIGINT" jl-llm --batch -m openai/mock-model --base-url "$OLD/v1" \
		--poll 0.05 --db moved.db -p "Company: {{.name}}" <in >moved.out 2>moved.err & } &&
	pid=$! &&
	wait_route batch &&
	kill -INT "$pid" &&
	test_expect_code 75 wait "$pid" &&
	sql moved.db "SELECT remote_id FROM llm_batches" >moved.remote &&
	mock_start --key "$KEY" --batch-time 0.2 &&
	test_expect_code 75 bllm openai/mock-model --db moved.db -p "Company: {{.name}}" <in >moved2.out 2>moved2.err &&
	test "$(sql moved.db "SELECT remote_id || \" \" || state FROM llm_batches WHERE base = \"$OLD/v1\"")" = "$(cat moved.remote) submitted" &&
	test "$(sql moved.db "SELECT count(*) FROM llm_batches")" = 1 &&
	! grep -q "\"route\":\"batches\"" "$MOCK_LOG" &&
	test "$(grep -c "\"code\":\"interrupted\"" moved2.out)" = 5 &&
	test_grep "$(cat moved.remote) at $OLD/v1" moved2.out &&
	test_grep "rerun with --base-url where it runs" moved2.err
'

# --- duplicates, order ----------------------------------------------------------------

test_expect_success PYTHON3 'identical requests: one batch item; the first record pays, its copies are cached' '
	mock_start --key "$KEY" --batch-time 0.2 &&
	printf "%s\n" "{\"id\":1,\"name\":\"A\"}" "{\"id\":2,\"name\":\"B\"}" "{\"id\":3,\"name\":\"A\"}" \
		"{\"id\":4,\"name\":\"C\"}" "{\"id\":5,\"name\":\"A\"}" "{\"id\":6,\"name\":\"B\"}" >in &&
	bllm openai/mock-model --db dup.db -p "Company: {{.name}}" <in >out 2>err &&
	check out <<-\EOF
	len(R) == 6 and all(ok(r) for r in R)
	sqlite3.connect("dup.db").execute("SELECT items FROM llm_batches").fetchall() == [(3,)]
	[r["llm"]["cached"] for r in sorted(R, key=lambda r: r["id"])] == [False, False, True, False, True, True]
	all(r["llm"]["attempts"] == (0 if r["llm"]["cached"] else 1) for r in R)
	by = {}
	all(by.setdefault(r["name"], r["llm"]["content"]) == r["llm"]["content"] for r in R)
	len(by) == 3 and len(set(by.values())) == 3
	# jl-cost would bill the three requests once each
	len({r["name"] for r in R if not r["llm"]["cached"]}) == 3
	EOF
'

test_expect_success PYTHON3,NO_VALGRIND 'without -k: cached, bad and failed records leave at once, before the batch ends' '
	mock_start --key "$KEY" --batch-time 0.2 &&
	records 8 >in &&
	# answers for 2, 4 and 6 in the cache first
	sed -n "2p;4p;6p" in | bllm openai/mock-model --db order.db -p "Company: {{.name}}" >primed 2>err &&
	mock_start --key "$KEY" --batch-time 2 &&
	{
		cat in
		echo "not json"
		echo "{\"id\":9,\"_error\":{\"code\":\"upstream\"}}"
	} >mixed &&
	n0=$(log_lines) &&
	{ bllm openai/mock-model --db order.db -p "Company: {{.name}}" <mixed >out 2>err & } &&
	pid=$! &&
	wait_lines 5 out &&
	# written while the batch still runs: nothing downloaded yet
	log_since "$n0" &&
	test_grep -v file-content new.log &&
	wait "$pid" &&
	check out <<-\EOF
	len(R) == 10
	first = R[:5]
	[r.get("id") for r in first] == [2, 4, 6, None, 9]
	all(cached(r) for r in first[:3])
	err(first[3])["code"] == "bad_input" and err(first[4])["code"] == "upstream"
	[r["id"] for r in R[5:]] == [1, 3, 5, 7, 8]
	all(ok(r) and r["llm"]["cached"] is False for r in R[5:])
	EOF
'

test_expect_success PYTHON3 '-k: input order, cached and batch answers interleaved' '
	mock_start --key "$KEY" --batch-time 0.2 &&
	sed -n "1p;3p;5p" in | bllm openai/mock-model --db order2.db -p "Company: {{.name}}" >primed2 2>err &&
	bllm openai/mock-model --db order2.db -k -p "Company: {{.name}}" <mixed >k2 2>err &&
	check k2 <<-\EOF
	len(R) == 10
	[r.get("id") for r in R] == [1, 2, 3, 4, 5, 6, 7, 8, None, 9]
	[r["llm"]["cached"] for r in R[:8]] == [True, False, True, False, True, False, False, False]
	all(ok(r) for r in R[:8])
	err(R[8])["code"] == "bad_input" and err(R[9])["code"] == "upstream"
	EOF
'

# --batch --budget: a batch whose estimate would take the ledger past the
# budget is not submitted; its records leave budget_exceeded (75).
test_expect_success PYTHON3 '--batch --budget: nothing is sent once the ledger holds the budget' '
	mock_start --key "$KEY" --batch-time 0.2 &&
	records 8 >in &&
	# three answers paid and tallied by jl-cost in the ledger
	head -n 3 in | llm -q --db budget.db -p "Company: {{.name}}" |
		jl-cost -q --db budget.db --prices "$PRICES" >/dev/null &&
	n0=$(log_lines) &&
	test_must_fail bllm openai/mock-model --db budget.db --budget 0.000001 -p "Company: {{.name}}" <in >out 2>err &&
	log_since "$n0" &&
	test_grep -v "\"route\":\"files\"" new.log &&
	test_grep -v "\"route\":\"batches\"" new.log
'

# --- the key ------------------------------------------------------------------------------

test_expect_success PYTHON3 'the estimate of a batch dry run holds the ledger of the real run, within its documented error' '
	mock_start --key "$KEY" --batch-time 0.2 &&
	records 40 >in &&
	jl-llm --batch --dry-run -m openai/gpt-4o-mini --max-tokens 60 -p "Classify the company {{.name}} for GPU spending." \
		<in >dry.out 2>dry.err &&
	jl-cost --estimate <dry.out >estimate 2>&1 &&
	bllm openai/gpt-4o-mini --db est.db --max-tokens 60 -p "Classify the company {{.name}} for GPU spending." \
		<in >real.out 2>real.err &&
	jl-cost --db est.db <real.out >/dev/null 2>&1 &&
	check real.out <<-\EOF
	D = [json.loads(l) for l in open("dry.out")]
	first = open("estimate").readline()
	first.startswith("[ESTIMATE] 40 records, $")
	est = float(first.split("$")[1].split(" ")[0])
	ledger = sqlite3.connect("est.db").execute("SELECT sum(pico) FROM cost_ledger").fetchone()[0] / 1e12
	len(R) == 40 and all(r["llm"]["batch"] for r in R)
	# the completion counted at --max-tokens: an upper bound of what the run bills
	0 < ledger <= est
	# the prompt at 4 bytes a token: within 5% of the count the (mock) provider bills
	pe = sum(d["llm"]["usage"]["prompt_tokens"] for d in D)
	pr = sum(r["llm"]["usage"]["prompt_tokens"] for r in R)
	abs(pe - pr) <= 0.05 * pr
	# and the estimate prices both at the batch prices (gpt-4o-mini: half of 0.15 and 0.60 $/M)
	ce = sum(d["llm"]["usage"]["completion_tokens"] for d in D)
	abs(est - (pe * 0.075 + ce * 0.30) / 1e6) < 1e-9
	EOF
'

test_expect_success PYTHON3 '--log: a line for each attempt of each request of the batch API' '
	mock_start --key "$KEY" --batch-time 0.2 &&
	records 3 >in &&
	bllm openai/mock-model --db log.db --log batch.log -p "Company: {{.name}}" <in >out 2>err &&
	check out <<-\EOF
	L = [json.loads(l) for l in open("batch.log")]
	[l["batch_request"] for l in L][:4] == ["the key check", "uploading the batch", "creating the batch", "polling the batch"]
	L[-1]["batch_request"] == "downloading the results"
	all(l["tool"] == "jl-llm" and l["provider"] == "openai" and l["model"] == "mock-model" for l in L)
	all(l["status"] == 200 and l["error"] is None and l["attempt"] == 1 for l in L)
	EOF
'

test_expect_success 'a wrong key: 77, the records not sent; no key in any file, database or log' '
	mock_start --key "$KEY" --batch-time 0.2 &&
	records 3 >in &&
	WRONG=sk-wrong-key-0f9e8d7c6b5a4321 &&
	# the key check refuses it before any input is read
	test_expect_code 77 env OPENAI_API_KEY=$WRONG jl-llm --batch -m openai/mock-model \
		--base-url "$MOCK_URL/v1" --db wrong.db -p "Company: {{.name}}" <in >wrong.out 2>wrong.err &&
	test_must_be_empty wrong.out &&
	test_grep "401" wrong.err &&
	# without it, the upload is refused and every record leaves unsent
	test_expect_code 77 env OPENAI_API_KEY=$WRONG jl-llm --batch --no-check -m openai/mock-model \
		--base-url "$MOCK_URL/v1" --db wrong.db --log wrong.log -p "Company: {{.name}}" \
		<in >wrong1.out 2>wrong1.err &&
	test_grep "\"status\":401" wrong.log &&
	test "$(grep -c "not_sent" wrong1.out)" = 3 &&
	test_grep "401" wrong1.err &&
	test_expect_code 77 env ANTHROPIC_API_KEY=$WRONG jl-llm --batch -m anthropic/mock-claude \
		--base-url "$MOCK_URL/v1" --db wrong.db -p "Company: {{.name}}" <in >wrong2.out 2>wrong2.err &&
	# every file of the scratch directory: outputs, stderr, the mock logs, the databases
	! grep -r -a -l -e "$KEY" -e "$WRONG" . >leaks &&
	test_must_be_empty leaks
'

test_done
