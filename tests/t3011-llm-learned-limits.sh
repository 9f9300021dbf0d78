#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
test_description='jl-llm without --rpm/--tpm: a rate learned from 429s that say nothing (no hints, Gemini), the limit the headers give, Groq-style request headers that count a day, and what one process learns paces the next'
. ./lib.sh
. "$TEST_DIRECTORY/lib-llm.sh"

KEY=sk-test-learned-0123456789
OPENAI_API_KEY=$KEY GEMINI_API_KEY=$KEY GROQ_API_KEY=$KEY
export OPENAI_API_KEY GEMINI_API_KEY GROQ_API_KEY

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
