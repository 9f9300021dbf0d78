#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
test_description='jl-llm without --rpm/--tpm: a rate learned from 429s that say nothing (no hints, Gemini), the limit the headers give, Groq-style request headers that count a day, and what one process learns paces the next'
. ./lib.sh

# The shared rate limiter keeps its state here, private to this script.
XDG_RUNTIME_DIR=$PWD/run
mkdir -p "$XDG_RUNTIME_DIR"
export XDG_RUNTIME_DIR

KEY=sk-test-learned-0123456789
OPENAI_API_KEY=$KEY GEMINI_API_KEY=$KEY GROQ_API_KEY=$KEY
export OPENAI_API_KEY GEMINI_API_KEY GROQ_API_KEY

# records N [FIRST]: N records {"id":I,"name":"Company I"}, I from FIRST (1).
records() {
	awk -v n="$1" -v first="${2:-1}" 'BEGIN {
		for (i = first; i < first + n; i++)
			printf "{\"id\":%d,\"name\":\"Company %d\"}\n", i, i
	}'
}

# limiter_dir NAME: a fresh directory for the limiter's state.
limiter_dir() {
	XDG_RUNTIME_DIR=$TRASH_DIRECTORY/run-$1
	mkdir -p "$XDG_RUNTIME_DIR"
	export XDG_RUNTIME_DIR
}

# check FILE [LOG] <ASSERTIONS: each line a python3 expression over R (the
# records of FILE), M (the mock's log, LOG or $MOCK_LOG), C (its chat
# requests), with ok(r), share429(L) (the share of L answered 429, in
# percent), span(L) (ms from the first to the last).
check() {
	python3 -c '
import json, sys
def lines(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]
R = lines(sys.argv[1])
M = lines(sys.argv[2])
C = [m for m in M if m["path"].endswith("/chat/completions")]
def ok(r): return isinstance(r.get("llm"), dict) and "_error" not in r
def share429(L=None):
    L = C if L is None else L
    return 100.0 * sum(1 for m in L if m["status"] == 429) / len(L)
def span(L=None):
    t = sorted(m["t"] for m in (C if L is None else L))
    return t[-1] - t[0]
for expr in sys.stdin:
    expr = expr.strip()
    if not expr or expr.startswith("#"):
        continue
    if not eval(expr):
        sys.exit("check: false: %s\n429s %d of %d, span %.0f ms" % (expr,
            sum(1 for m in C if m["status"] == 429), len(C), span() if C else 0))
' "$1" "${2:-$MOCK_LOG}"
}

# A bucket of 60 requests refilled at 3,600 a minute, 20 ms latency: 600
# records take 9 s at best (the first 60 at once, then 60 a second). The
# bucket is a second's worth, so a slow start would show in the time.
# Without flags, jl-llm must learn the rate from the 429s: at most 3% of
# the requests answered 429 (the limit headers: 1%), and the run within
# 50% of the best (the margins are for a loaded machine; the simulation in
# tests/unit/test_ratelimit_learn.c gives 9.5 s).
learned_run() {
	name=$1 model=$2 prefix=$3
	shift 3
	limiter_dir "$name" &&
	mock_start --key "$KEY" --rpm 3600 --burst 60 --latency 20 "$@" &&
	records 600 >in &&
	timeout 120 jl-llm -m "$model" --base-url "$MOCK_URL$prefix" -j 4 \
		-p "Company: {{.name}}" <in >out 2>err
}

test_expect_success PYTHON3 'no hints at all (mockd --no-hints): the rate is learned, at most 3% 429s' '
	learned_run nohints openai/mock-model /v1 --no-hints &&
	check out <<-\EOF
	len(R) == 600 and all(ok(r) for r in R)
	share429() <= 3
	span() <= 13500
	EOF
'

test_expect_success PYTHON3 'Gemini (no headers, retryDelay in the 429 body): at most 3% 429s' '
	learned_run gemini gemini/mock-model /v1beta/openai &&
	check out <<-\EOF
	len(R) == 600 and all(ok(r) for r in R)
	share429() <= 3
	span() <= 13500
	EOF
'

test_expect_success PYTHON3 'limit headers: the bucket at once, then its pace; at most 1% 429s' '
	learned_run headers openai/mock-model /v1 &&
	check out <<-\EOF
	len(R) == 600 and all(ok(r) for r in R)
	share429() <= 1
	span() <= 13500
	EOF
'

test_expect_success PYTHON3 'what one run learned paces the next from its first request' '
	# The same limiter state as the no-hints run, a fresh mock: no burst, no 429.
	limiter_dir nohints &&
	mock_start --key "$KEY" --rpm 3600 --burst 60 --latency 20 --no-hints &&
	records 120 >in &&
	jl-llm -m openai/mock-model --base-url "$MOCK_URL/v1" -j 4 -p "Company: {{.name}}" \
		<in >out 2>err &&
	check out <<-\EOF
	len(R) == 120 and all(ok(r) for r in R)
	share429() == 0
	# 120 at most 60 a second: 2 s, where the bucket alone would pass 60 at once
	span() >= 1500
	EOF
'

# Groq: its request headers count a day (here 600, so that a reading as a
# minute would pace at 10 a second), its token headers a minute. 300 records
# of about 105 tokens each against 30,000 tokens a minute: 1,500 tokens past
# the bucket, 3 s at 500 a second.
test_expect_success PYTHON3 'Groq-style: the request headers count a day and do not pace; tokens do' '
	limiter_dir groq &&
	mock_start --key "$KEY" --tpm 30000 --rpd 600 --latency 20 &&
	records 300 >in &&
	timeout 120 jl-llm -m groq/mock-model --base-url "$MOCK_URL/openai/v1" -j 8 \
		--max-tokens 100 -p "Company: {{.name}}" <in >out 2>err &&
	check out <<-\EOF
	len(R) == 300 and all(ok(r) for r in R)
	share429() <= 1
	# 10 a second would take 30 s
	span() < 10000
	# the tokens pace: 1,500 past the bucket at 500 a second
	span() >= 2000
	EOF
'

test_done
