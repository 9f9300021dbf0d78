#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
test_description='jl-llm limits: retry-after and reset headers, duration formats, --rpm and -j, a 429 storm, one --rpm shared by processes'
. ./lib.sh
. "$TEST_DIRECTORY/lib-llm.sh"

KEY=sk-test-limits-0123456789
OPENAI_API_KEY=$KEY
ANTHROPIC_API_KEY=$KEY
export OPENAI_API_KEY ANTHROPIC_API_KEY

test_expect_success 'setup: a 429 body without a "try again" hint' '
	cat >ratelimited.json <<-\EOF
	{"error":{"message":"Rate limit reached for requests.","type":"requests","param":null,"code":"rate_limit_exceeded"}}
	EOF
'

# --- what the server says ----------------------------------------------------

test_expect_success PYTHON3 'retry-after on a 429: each retry waits at least that long' '
	limiter_dir retry-after &&
	cat >ra.scn <<-\EOF &&
	1 path=/chat/completions status=429 body=@ratelimited.json header="retry-after: 1"
	EOF
	mock_start --key "$KEY" --scenario ra.scn &&
	records 1 >in &&
	llm -p "Company: {{.name}}" <in >out &&
	check out <<-\EOF
	ok(R[0]) and R[0]["llm"]["attempts"] == 2
	[m["status"] for m in C] == [429, 200]
	gaps()[0] >= 990
	EOF
'

test_expect_success PYTHON3 'retry-after on a 503 is honoured too' '
	limiter_dir retry-after-503 &&
	cat >ra.scn <<-\EOF &&
	1 path=/chat/completions status=503 header="retry-after: 1"
	EOF
	mock_start --key "$KEY" --scenario ra.scn &&
	records 1 >in &&
	llm -p "Company: {{.name}}" <in >out &&
	check out <<-\EOF
	ok(R[0]) and R[0]["llm"]["attempts"] == 2
	gaps()[0] >= 990
	EOF
'

for ra in 3600 soon -5 "Wed, 21 Oct 2015 07:28:00 GMT"; do
	test_expect_success PYTHON3 "retry-after: $ra is clamped to [0, --max-retry-after]: no hang" '
		limiter_dir "clamp" &&
		cat >ra.scn <<-EOF &&
		1 path=/chat/completions status=429 body=@ratelimited.json header="retry-after: $ra"
		EOF
		mock_start --key "$KEY" --scenario ra.scn &&
		records 1 >in &&
		timeout 60 jl-llm -m openai/mock-model --base-url "$MOCK_URL/v1" --retry-base-ms 5 \
			--max-retry-after 1 -p "Company: {{.name}}" <in >out &&
		check out <<-\EOF
		ok(R[0]) and R[0]["llm"]["attempts"] == 2
		gaps()[0] < 20000
		EOF
	'
done

# reset_spacing NAME PAIR VALUE MIN [ARGS]: a 200 says nothing remains
# (x-ratelimit-remaining-PAIR: 0) until x-ratelimit-reset-PAIR: VALUE; the
# next request, on -j 1, comes MIN ms later at least (20 s at most).
reset_spacing() {
	rs_name=$1 rs_pair=$2 rs_value=$3 rs_min=$4 &&
	shift 4 &&
	limiter_dir "reset-$rs_name" &&
	cat >reset.scn <<-EOF &&
	1 path=/chat/completions header="x-ratelimit-remaining-$rs_pair: 0" header="x-ratelimit-reset-$rs_pair: $rs_value"
	EOF
	mock_start --key "$KEY" --scenario reset.scn &&
	records 2 >in &&
	timeout 60 jl-llm -m openai/mock-model --base-url "$MOCK_URL/v1" --retry-base-ms 5 -j 1 -k \
		--max-tokens 20 "$@" -p "Company: {{.name}}" <in >out &&
	check out <<-EOF
	len(R) == 2 and all(ok(r) and r["llm"]["attempts"] == 1 for r in R)
	$rs_min <= gaps()[0] < 20000
	EOF
}

test_expect_success PYTHON3 'x-ratelimit reset headers, Go durations: 0.9s, 800ms, 0.7s (tokens)' '
	reset_spacing a requests 0.9s 890 &&
	reset_spacing b requests 800ms 790 &&
	reset_spacing c tokens 0.7s 690
'

test_expect_success PYTHON3 'x-ratelimit reset headers: 2m59.56s is clamped to --max-retry-after' '
	reset_spacing d requests 2m59.56s 990 --max-retry-after 1
'

test_expect_success PYTHON3 'anthropic-ratelimit reset header: an RFC 3339 time' '
	limiter_dir anthropic &&
	reset=$(date -u -d "@$(($(date +%s) + 2))" +%Y-%m-%dT%H:%M:%SZ) &&
	cat >reset.scn <<-EOF &&
	1 path=/v1/messages header="anthropic-ratelimit-requests-remaining: 0" header="anthropic-ratelimit-requests-reset: $reset"
	EOF
	mock_start --key "$KEY" --scenario reset.scn &&
	records 2 >in &&
	timeout 60 jl-llm -m anthropic/claude-x --base-url "$MOCK_URL/v1" --retry-base-ms 5 -j 1 -k \
		-p "Company: {{.name}}" <in >out &&
	check out <<-\EOF
	len(R) == 2 and all(ok(r) for r in R)
	# the reset is 1 to 2 s after the scenario was written
	500 <= gaps()[0] < 20000
	EOF
'

# The mock's own limits, from its headers: a bucket of 3 requests refilled
# at 120 a minute (the key check takes one), or of 3,000 tokens at 3,000 a
# minute with requests of about 1,020 tokens. The first two go at once; the
# third waits until it fits (500 ms; 60 tokens at 50 a second, 1.2 s), not
# until the bucket is full (a minute), and gets no 429.
for limit in "--rpm 120 --burst 3" "--tpm 3000"; do
	test_expect_success PYTHON3 "mockd $limit: its headers pace the requests" '
		limiter_dir "mock-$limit" &&
		mock_start --key "$KEY" $limit &&
		records 3 >in &&
		jl-llm -m openai/mock-model --base-url "$MOCK_URL/v1" --retry-base-ms 5 \
			--max-tokens 1017 -j 1 -k -p "Company: {{.name}}" <in >out 2>err &&
		check out <<-\EOF
		[r["id"] for r in R] == [1, 2, 3] and all(ok(r) for r in R)
		[m["status"] for m in C] == [200, 200, 200]
		gaps()[0] < 300
		400 <= gaps()[1] < 5000
		EOF
	'
done

# --- our own pace ------------------------------------------------------------------

test_expect_success PYTHON3 '-j N: never more than N requests in flight' '
	limiter_dir jobs &&
	mock_start --key "$KEY" --latency 200 &&
	records 12 >in &&
	llm -j 3 -p "Company: {{.name}}" <in >out &&
	check out <<-\EOF
	len(R) == 12 and all(ok(r) for r in R)
	window_max(190) == 3
	EOF
'

test_expect_success PYTHON3 '-j 32 --rpm 600 against a 600-rpm mock: 10 a second at most, never a 429' '
	limiter_dir rpm600 &&
	mock_start --key "$KEY" --rpm 600 &&
	records 40 >in &&
	llm -j 32 --rpm 600 -p "Company: {{.name}}" <in >out &&
	check out <<-\EOF
	len(R) == 40 and ids(R) == list(range(1, 41)) and all(ok(r) for r in R)
	all(m["status"] == 200 for m in M)
	span() >= 3900
	window_max(1000) <= 11
	EOF
'

test_expect_success PYTHON3 'a 429 storm (mockd --rpm 240 --no-hints, 250 records, -j 16): no record lost, none paid twice' '
	limiter_dir storm &&
	mock_start --key "$KEY" --rpm 240 --no-hints &&
	records 250 >in &&
	timeout 120 jl-llm -m openai/mock-model --base-url "$MOCK_URL/v1" --retry-base-ms 5 \
		-j 16 --retries 40 --max-retry-after 1 -p "Company: {{.name}}" <in >out 2>err &&
	check out <<-\EOF
	len(R) == 250 and ids(R) == list(range(1, 251)) and all(ok(r) for r in R)
	len([m for m in C if m["status"] == 429]) > 0
	len([m for m in C if m["status"] == 200]) == 250
	len({m["body_hash"] for m in C if m["status"] == 200}) == 250
	EOF
'

# --- one limit shared by processes -------------------------------------------------

test_expect_success 'setup: a script that runs one shard' '
	cat >one.sh <<-\EOF
	jl-llm -m openai/mock-model --base-url "$MOCK_URL/v1" --retry-base-ms 5 $LLM_ARGS \
		-p "Company: {{.name}}" <"$1" >"$1.out" 2>"$1.err"
	EOF
'

# shards P N: P files shard.P.I of N records each, ids running on.
shards() {
	i=0
	while [ "$i" -lt "$1" ]; do
		records "$2" $((i * $2 + 1)) >"shard.$1.$i" || return 1
		i=$((i + 1))
	done
}

for procs in 2 4; do
	test_expect_success PYTHON3 "$procs processes (xargs -P $procs) share one --rpm 240" '
		limiter_dir "procs$procs" &&
		mock_start --key "$KEY" &&
		export MOCK_URL &&
		shards $procs $((8 / procs)) &&
		ls shard.$procs.? >list &&
		LLM_ARGS="--rpm 240" xargs -P $procs -n 1 sh ./one.sh <list &&
		cat shard.$procs.?.out >out &&
		check out <<-\EOF
		len(R) == 8 and ids(R) == list(range(1, 9)) and all(ok(r) for r in R)
		len(C) == 8
		# 4 a second, and 1 of margin; each process alone would send its share at once
		window_max(1000) <= 5
		span() >= 7 * 250 - 50
		EOF
	'
done

test_expect_success PYTHON3 'a 429 pauses every process that shares the limit' '
	limiter_dir pause &&
	cat >pause.scn <<-\EOF &&
	1 path=/chat/completions status=429 body=@ratelimited.json header="retry-after: 1"
	EOF
	mock_start --key "$KEY" --scenario pause.scn &&
	export MOCK_URL &&
	shards 2 3 &&
	ls shard.2.? >list &&
	LLM_ARGS="--rpm 6000" xargs -P 2 -n 1 sh ./one.sh <list &&
	cat shard.2.?.out >out &&
	check out <<-\EOF
	len(R) == 6 and all(ok(r) for r in R)
	C[0]["status"] == 429
	# nothing starts in the pause (requests already on their way arrive at once)
	[m["n"] for m in C if C[0]["t"] + 300 < m["t"] < C[0]["t"] + 950] == []
	len([m for m in C if m["t"] >= C[0]["t"] + 950]) >= 4
	EOF
'

test_done
