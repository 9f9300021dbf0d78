#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
test_description='mockd simulation: --rpm, --tpm and their headers, --fail-rate, --latency, --seed'
. ./lib.sh
. "$TEST_DIRECTORY/lib-mock.sh"

K1=sk-rate-one-0123456789
K2=sk-rate-two-9876543210

# RFC 3339 timestamps (GO_DURATION, Go's durations, is in lib-mock.sh).
RFC3339='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$'

# chat NAME KEY [CURL-ARGS...]: POST chat.json to /v1/chat/completions with KEY.
chat() {
	chat_name=$1
	chat_key=$2
	shift 2
	req "$chat_name" -H "Authorization: Bearer $chat_key" -H 'Content-Type: application/json' \
		-d @chat.json "$@" "$MOCK_URL/v1/chat/completions"
}

test_expect_success CURL 'setup: --rpm 3 with two keys' '
	echo "{\"model\":\"mock-model\",\"messages\":[{\"role\":\"user\",\"content\":\"Company: Acme\"}]}" >chat.json &&
	echo "{\"model\":\"mock-model\",\"max_tokens\":50,\"messages\":[{\"role\":\"user\",\"content\":\"Company: Acme\"}]}" >msg.json &&
	mock_start --rpm 3 --key "$K1" --key "$K2"
'

test_expect_success CURL '--rpm 3: three requests pass, x-ratelimit-*-requests count down' '
	chat r1 "$K1" && status_is 200 r1 &&
	chat r2 "$K1" && status_is 200 r2 &&
	chat r3 "$K1" && status_is 200 r3 &&
	header_is r1 x-ratelimit-limit-requests 3 &&
	header_is r1 x-ratelimit-remaining-requests 2 &&
	header_is r2 x-ratelimit-remaining-requests 1 &&
	header_is r3 x-ratelimit-limit-requests 3 &&
	header_is r3 x-ratelimit-remaining-requests 0 &&
	header_matches r1 x-ratelimit-reset-requests "$GO_DURATION" &&
	header_matches r3 x-ratelimit-reset-requests "$GO_DURATION" &&
	no_header r3 retry-after
'

test_expect_success CURL,PYTHON3 '--rpm 3: the 4th request gets 429 with retry-after and the headers' '
	chat r4 "$K1" &&
	status_is 429 r4 &&
	header_matches r4 retry-after "^[0-9]+\$" &&
	num_between "$(header r4 retry-after)" 1 60 &&
	header_is r4 x-ratelimit-limit-requests 3 &&
	header_is r4 x-ratelimit-remaining-requests 0 &&
	header_matches r4 x-ratelimit-reset-requests "$GO_DURATION" &&
	num_between "$(go_seconds "$(header r4 x-ratelimit-reset-requests)")" 0.001 60 &&
	jcheck r4.body <<-\EOF
	d["error"]["code"] == "rate_limit_exceeded"
	d["error"]["type"] == "requests"
	"Please try again in" in d["error"]["message"]
	re.search(r"Please try again in [0-9.]+(ms|s|m)", d["error"]["message"]) is not None
	EOF
'

test_expect_success CURL,PYTHON3 'the limits are per key: the other key still passes' '
	chat other "$K2" &&
	status_is 200 other &&
	header_is other x-ratelimit-remaining-requests 2 &&
	chat again "$K1" &&
	status_is 429 again
'

test_expect_success CURL,PYTHON3 'the OpenRouter prefix: 429 in OpenRouter shape' '
	req orl -H "Authorization: Bearer $K1" -H "Content-Type: application/json" -d @chat.json \
		"$MOCK_URL/api/v1/chat/completions" &&
	status_is 429 orl &&
	header_matches orl retry-after "^[0-9]+\$" &&
	jcheck orl.body <<-\EOF
	d["error"]["code"] == 429
	isinstance(d["error"]["message"], str)
	EOF
'

test_expect_success CURL,PYTHON3 '/_stats and the log count the 429s' '
	req stats "$MOCK_URL/_stats" &&
	status_is 200 stats &&
	jcheck stats.body <<-\EOF &&
	d["rate_limited"] == 3
	d["by_status"]["429"] == 3
	d["by_status"]["200"] == 4
	EOF
	grep -c "\"status\":429" "$MOCK_LOG" >n429 &&
	echo 3 >expect &&
	test_cmp expect n429
'

test_expect_success CURL,PYTHON3 '--rpm 60: a burst of 60 passes, then 429; after retry-after a request passes' '
	mock_stop &&
	mock_start --rpm 60 --key "$K1" &&
	bulk burst 70 "$MOCK_URL/v1/chat/completions" -H "Authorization: Bearer $K1" \
		-H "Content-Type: application/json" -d @chat.json &&
	head -n 60 burst.codes | sort -u >first &&
	echo 200 >expect &&
	test_cmp expect first &&
	tail -n 10 burst.codes >rest &&
	test_grep "^429\$" rest &&
	# a request while the bucket is empty: 429, retry-after 1 s or so
	for i in 1 2 3 4 5; do
		chat empty "$K1" &&
		if test "$(cat empty.code)" = 429; then break; fi
	done &&
	status_is 429 empty &&
	ra=$(header empty retry-after) &&
	num_between "$ra" 1 2 &&
	sleep "$ra" &&
	chat refilled "$K1" &&
	status_is 200 refilled
'

test_expect_success CURL,PYTHON3 '--tpm 1000: tokens counted, headers, then 429 with retry-after' '
	mock_stop &&
	mock_start --tpm 1000 --key "$K1" &&
	# 800 bytes of prompt (200 tokens) plus max_tokens 100: 300 tokens a request
	printf "{\"model\":\"mock-model\",\"max_tokens\":100,\"messages\":[{\"role\":\"user\",\"content\":\"%s\"}]}\n" \
		"$(x_bytes 800)" >chat.json &&
	chat t1 "$K1" && status_is 200 t1 &&
	header_is t1 x-ratelimit-limit-tokens 1000 &&
	num_between "$(header t1 x-ratelimit-remaining-tokens)" 680 720 &&
	header_matches t1 x-ratelimit-reset-tokens "$GO_DURATION" &&
	chat t2 "$K1" && status_is 200 t2 &&
	num_between "$(header t2 x-ratelimit-remaining-tokens)" 380 440 &&
	chat t3 "$K1" && status_is 200 t3 &&
	chat t4 "$K1" &&
	status_is 429 t4 &&
	header_matches t4 retry-after "^[0-9]+\$" &&
	num_between "$(header t4 retry-after)" 1 60 &&
	header_is t4 x-ratelimit-limit-tokens 1000 &&
	header_matches t4 x-ratelimit-reset-tokens "$GO_DURATION" &&
	jcheck t4.body <<-\EOF
	d["error"]["code"] == "rate_limit_exceeded"
	d["error"]["type"] == "tokens"
	"Please try again in" in d["error"]["message"]
	EOF
'

test_expect_success CURL,PYTHON3 '--tpm 1000: a request larger than the whole TPM: "Request too large", no retry-after' '
	# 5000 bytes: 1250 tokens
	printf "{\"model\":\"mock-model\",\"messages\":[{\"role\":\"user\",\"content\":\"%s\"}]}\n" \
		"$(x_bytes 5000)" >chat.json &&
	chat big "$K1" &&
	status_is 429 big &&
	no_header big retry-after &&
	jcheck big.body <<-\EOF
	d["error"]["code"] == "rate_limit_exceeded"
	d["error"]["message"].startswith("Request too large")
	"Limit 1000" in d["error"]["message"]
	EOF
'

test_expect_success CURL,PYTHON3 'Anthropic: anthropic-ratelimit-* headers (RFC 3339 resets), 429 rate_limit_error' '
	mock_stop &&
	mock_start --rpm 2 --tpm 100000 --key "$K1" &&
	now=$(date +%s) &&
	for i in 1 2 3; do
		req a$i -H "x-api-key: $K1" -H "anthropic-version: 2023-06-01" \
			-H "Content-Type: application/json" -d @msg.json "$MOCK_URL/v1/messages" || return 1
	done &&
	status_is 200 a1 &&
	status_is 200 a2 &&
	header_is a1 anthropic-ratelimit-requests-limit 2 &&
	header_is a1 anthropic-ratelimit-requests-remaining 1 &&
	header_is a2 anthropic-ratelimit-requests-remaining 0 &&
	header_matches a1 anthropic-ratelimit-requests-reset "$RFC3339" &&
	header_is a1 anthropic-ratelimit-tokens-limit 100000 &&
	header_matches a1 anthropic-ratelimit-tokens-remaining "^[0-9]+\$" &&
	header_matches a1 anthropic-ratelimit-tokens-reset "$RFC3339" &&
	python3 -c "
import datetime, sys
t = datetime.datetime.fromisoformat(sys.argv[1].replace(\"Z\", \"+00:00\")).timestamp()
now = int(sys.argv[2])
assert now - 5 <= t <= now + 65, (sys.argv[1], now)
" "$(header a2 anthropic-ratelimit-requests-reset)" "$now" &&
	status_is 429 a3 &&
	header_matches a3 retry-after "^[0-9]+\$" &&
	num_between "$(header a3 retry-after)" 1 60 &&
	header_is a3 anthropic-ratelimit-requests-remaining 0 &&
	jcheck a3.body <<-\EOF
	d["type"] == "error"
	d["error"]["type"] == "rate_limit_error"
	isinstance(d["error"]["message"], str)
	EOF
'

test_expect_success CURL,PYTHON3 '--fail-rate 1: only 500, 502, 503 (and 529 for Anthropic), in the provider shape' '
	mock_stop &&
	mock_start --fail-rate 1 &&
	echo "{\"model\":\"mock-model\",\"messages\":[{\"role\":\"user\",\"content\":\"Company: Acme\"}]}" >chat.json &&
	bulk fo 12 "$MOCK_URL/v1/chat/completions" -H "Content-Type: application/json" -d @chat.json &&
	test_line_count = 12 fo.codes &&
	{ grep -v -E -x "500|502|503" fo.codes || :; } >fo.other &&
	test_must_be_empty fo.other &&
	jcheck fo.1.body fo.2.body fo.3.body fo.4.body fo.5.body fo.6.body fo.7.body fo.8.body \
		fo.9.body fo.10.body fo.11.body fo.12.body <<-\EOF &&
	isinstance(d["error"]["message"], str)
	EOF
	bulk fa 12 "$MOCK_URL/v1/messages" -H "Content-Type: application/json" \
		-H "anthropic-version: 2023-06-01" -d @msg.json &&
	test_line_count = 12 fa.codes &&
	{ grep -v -E -x "500|502|503|529" fa.codes || :; } >fa.other &&
	test_must_be_empty fa.other &&
	i=0 &&
	while read -r code; do
		i=$((i + 1)) &&
		echo "@fa.$i.body d[\"type\"] == \"error\"" &&
		echo "@fa.$i.body isinstance(d[\"error\"][\"message\"], str)" &&
		if test "$code" = 529; then
			echo "@fa.$i.body d[\"error\"][\"type\"] == \"overloaded_error\""
		else
			echo "@fa.$i.body isinstance(d[\"error\"][\"type\"], str)"
		fi || return 1
	done <fa.codes >checks &&
	jcheck <checks &&
	echo "{\"query\":\"gpu\"}" >tavily.json &&
	bulk ft 6 "$MOCK_URL/tavily/search" -H "Content-Type: application/json" -d @tavily.json &&
	test_line_count = 6 ft.codes &&
	{ grep -v -E -x "500|502|503" ft.codes || :; } >ft.other &&
	test_must_be_empty ft.other
'

test_expect_success CURL '--fail-rate 0: no failures' '
	mock_stop &&
	mock_start --fail-rate 0 &&
	bulk f0 12 "$MOCK_URL/v1/chat/completions" -H "Content-Type: application/json" -d @chat.json &&
	test_line_count = 12 f0.codes &&
	sort -u f0.codes >f0.set &&
	echo 200 >expect &&
	test_cmp expect f0.set
'

test_expect_success CURL '--seed: the same options give the same statuses at --fail-rate 0.5' '
	mock_stop &&
	mock_start --fail-rate 0.5 --seed 7 &&
	bulk s1 24 "$MOCK_URL/v1/chat/completions" -H "Content-Type: application/json" -d @chat.json &&
	mock_stop &&
	mock_start --fail-rate 0.5 --seed 7 &&
	bulk s2 24 "$MOCK_URL/v1/chat/completions" -H "Content-Type: application/json" -d @chat.json &&
	mock_stop &&
	mock_start --fail-rate 0.5 --seed 8 &&
	bulk s3 24 "$MOCK_URL/v1/chat/completions" -H "Content-Type: application/json" -d @chat.json &&
	test_line_count = 24 s1.codes &&
	test_cmp s1.codes s2.codes &&
	test_grep "^200\$" s1.codes &&
	grep -E "^50[023]\$" s1.codes &&
	! test_cmp s1.codes s3.codes
'

# timed NAME CURL-ARGS...: one request; its status and time_total in NAME.code.
timed() {
	timed_name=$1
	shift
	curl -sS -o "$timed_name.body" -w '%{http_code} %{time_total}\n' "$@" >"$timed_name.code"
}

# took NAME LOW HIGH: the request NAME was answered 200 in LOW to HIGH seconds.
took() {
	read -r took_code took_time <"$1.code" &&
	test "$took_code" = 200 &&
	num_between "$took_time" "$2" "$3"
}

test_expect_success CURL '--latency 200: each answer takes at least 200 ms' '
	mock_stop &&
	mock_start --latency 200 &&
	timed l1 -H "Content-Type: application/json" -d @chat.json "$MOCK_URL/v1/chat/completions" &&
	timed l2 -H "Content-Type: application/json" -d @msg.json -H "anthropic-version: 2023-06-01" \
		"$MOCK_URL/v1/messages" &&
	timed l3 -H "Content-Type: application/json" -d @tavily.json "$MOCK_URL/tavily/search" &&
	took l1 0.2 2 &&
	took l2 0.2 2 &&
	took l3 0.2 2
'

test_expect_success CURL '--latency 100-300 and 100~300: at least 100 ms each' '
	mock_stop &&
	mock_start --latency 100-300 &&
	timed u1 -H "Content-Type: application/json" -d @chat.json "$MOCK_URL/v1/chat/completions" &&
	timed u2 -H "Content-Type: application/json" -d @chat.json "$MOCK_URL/v1/chat/completions" &&
	took u1 0.1 3 &&
	took u2 0.1 3 &&
	mock_stop &&
	mock_start --latency 100~300 &&
	timed t1 -H "Content-Type: application/json" -d @chat.json "$MOCK_URL/v1/chat/completions" &&
	timed t2 -H "Content-Type: application/json" -d @chat.json "$MOCK_URL/v1/chat/completions" &&
	took t1 0.1 3 &&
	took t2 0.1 3
'

test_done
