#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
test_description='mockd --scenario: statuses, error kinds, bodies, headers, faults, ranges, path filters'
. ./lib.sh
. "$TEST_DIRECTORY/lib-mock.sh"

# logged N FAULT: the log line of request N names the fault FAULT.
logged() {
	python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
mine = [l for l in lines if l["n"] == int(sys.argv[2])]
if len(mine) != 1 or mine[0].get("fault") != sys.argv[3]:
    sys.exit("logged: request %s has not fault %s: %s" % (sys.argv[2], sys.argv[3], lines))
' "$MOCK_LOG" "$1" "$2"
}

# The routes, with a valid request each.
chat() {
	req "$1" -H 'Content-Type: application/json' -d @chat.json "$MOCK_URL/v1/chat/completions"
}
openrouter() {
	req "$1" -H 'Content-Type: application/json' -d @chat.json "$MOCK_URL/api/v1/chat/completions"
}
anthropic() {
	req "$1" -H 'Content-Type: application/json' -H 'anthropic-version: 2023-06-01' \
		-d @msg.json "$MOCK_URL/v1/messages"
}
tavily() {
	req "$1" -H 'Content-Type: application/json' -d @tavily.json "$MOCK_URL/tavily/search"
}

# is_normal_chat NAME: a 200 with the normal chat answer.
is_normal_chat() {
	status_is 200 "$1" &&
	jcheck "$1.body" <<-\EOF
	d["choices"][0]["finish_reason"] == "stop"
	isinstance(d["choices"][0]["message"]["content"], str)
	EOF
}

# curl_rc NAME CURL-ARGS...: run curl; its exit status in NAME.rc.
curl_rc() {
	curl_rc_name=$1
	shift
	curl -sS -o "$curl_rc_name.body" -D "$curl_rc_name.headers" "$@" 2>"$curl_rc_name.err"
	echo $? >"$curl_rc_name.rc"
}

# curl_rc_bg NAME CURL-ARGS...: curl_rc in the background; its pid in bg_pid.
curl_rc_bg() {
	curl_rc "$@" &
	bg_pid=$!
}

# rc_in NAME CODE...: the curl run NAME exited with one of CODEs.
rc_in() {
	rc_in_name=$1
	shift
	rc_got=$(cat "$rc_in_name.rc")
	for rc_want in "$@"; do
		if [ "$rc_got" = "$rc_want" ]; then
			return 0
		fi
	done
	echo >&4 "rc_in: curl exited with $rc_got, not one of $*"
	cat >&4 "$rc_in_name.err"
	return 1
}

test_expect_success 'setup: requests' '
	echo "{\"model\":\"mock-model\",\"messages\":[{\"role\":\"user\",\"content\":\"Company: Acme\"}]}" >chat.json &&
	echo "{\"model\":\"mock-model\",\"max_tokens\":100,\"messages\":[{\"role\":\"user\",\"content\":\"Company: Acme\"}]}" >msg.json &&
	echo "{\"query\":\"gpu cloud\"}" >tavily.json
'

test_expect_success CURL,PYTHON3 'status=CODE: 200 the normal answer, others the provider error body' '
	cat >status.scn <<-\EOF &&
	# statuses, one request each

	1 status=429 header="retry-after: 1"
	2 status=503
	3   status=200
	4 status=500
	5 status=529
	EOF
	mock_start --scenario status.scn &&
	chat s1 && chat s2 && chat s3 && tavily s4 && anthropic s5 && chat s6 &&
	status_is 429 s1 &&
	header_is s1 retry-after 1 &&
	jcheck s1.body <<-\EOF &&
	isinstance(d["error"]["message"], str)
	d["error"]["code"] == "rate_limit_exceeded"
	EOF
	status_is 503 s2 &&
	jcheck s2.body <<-\EOF &&
	isinstance(d["error"]["message"], str)
	EOF
	is_normal_chat s3 &&
	status_is 500 s4 &&
	jcheck s4.body <<-\EOF &&
	isinstance(d["detail"]["error"], str)
	EOF
	status_is 529 s5 &&
	jcheck s5.body <<-\EOF &&
	d["type"] == "error"
	d["error"]["type"] == "overloaded_error"
	EOF
	is_normal_chat s6
'

test_expect_success CURL,PYTHON3 'error=KIND on the OpenAI route: status and body' '
	cat >kinds <<-\EOF &&
	invalid_key 401 invalid_api_key
	forbidden 403 -
	model_not_found 404 model_not_found
	context_length 400 context_length_exceeded
	bad_request 400 -
	rate_limit 429 rate_limit_exceeded
	request_too_large 429 rate_limit_exceeded
	insufficient_quota 429 insufficient_quota
	credits 402 -
	server 500 -
	bad_gateway 502 -
	unavailable 503 -
	timeout 504 -
	EOF
	awk "{ print NR, \"error=\" \$1 }" kinds >kinds.scn &&
	mock_stop &&
	mock_start --scenario kinds.scn &&
	n=0 &&
	while read -r kind code ecode; do
		n=$((n + 1)) &&
		chat k$n &&
		status_is "$code" k$n &&
		echo "@k$n.body isinstance(d[\"error\"][\"message\"], str) and d[\"error\"][\"message\"] != \"\"" &&
		echo "@k$n.body \"type\" in d[\"error\"] and \"code\" in d[\"error\"]" &&
		if test "$ecode" != -; then
			echo "@k$n.body d[\"error\"][\"code\"] == \"$ecode\""
		fi || return 1
	done <kinds >checks &&
	jcheck <checks &&
	jcheck k7.body <<-\EOF &&
	d["error"]["message"].startswith("Request too large")
	EOF
	chat after &&
	is_normal_chat after
'

test_expect_success CURL,PYTHON3 'error=KIND on Anthropic: overloaded 529 and the other error types' '
	cat >anthropic-kinds <<-\EOF &&
	overloaded 529 overloaded_error
	rate_limit 429 rate_limit_error
	invalid_key 401 authentication_error
	forbidden 403 permission_error
	model_not_found 404 not_found_error
	bad_request 400 invalid_request_error
	context_length 400 invalid_request_error
	server 500 api_error
	EOF
	awk "{ print NR, \"path=/v1/messages error=\" \$1 }" anthropic-kinds >anthropic.scn &&
	mock_stop &&
	mock_start --scenario anthropic.scn &&
	n=0 &&
	while read -r kind code etype; do
		n=$((n + 1)) &&
		anthropic a$n &&
		status_is "$code" a$n &&
		echo "@a$n.body d[\"type\"] == \"error\"" &&
		echo "@a$n.body d[\"error\"][\"type\"] == \"$etype\"" &&
		echo "@a$n.body isinstance(d[\"error\"][\"message\"], str)" || return 1
	done <anthropic-kinds >checks &&
	jcheck <checks
'

test_expect_success CURL,PYTHON3 'error=plan_limit 432 and payg_limit 433 on /tavily/' '
	cat >tavily.scn <<-\EOF &&
	1 path=/tavily/ error=plan_limit
	2 path=/tavily/ error=payg_limit
	3 path=/tavily/ error=rate_limit
	4 path=/tavily/ error=invalid_key
	EOF
	mock_stop &&
	mock_start --scenario tavily.scn &&
	tavily t1 && tavily t2 && tavily t3 && tavily t4 && tavily t5 &&
	status_is 432 t1 &&
	status_is 433 t2 &&
	status_is 429 t3 &&
	status_is 401 t4 &&
	jcheck t1.body t2.body t3.body t4.body <<-\EOF &&
	isinstance(d["detail"]["error"], str) and d["detail"]["error"] != ""
	EOF
	status_is 200 t5 &&
	jcheck t5.body <<-\EOF
	len(d["results"]) == 5
	EOF
'

test_expect_success CURL,PYTHON3 'error_in_200 on /api/v1/: 200 with an OpenRouter error object' '
	cat >or.scn <<-\EOF &&
	1 path=/api/v1/ error=error_in_200
	2 path=/api/v1/ error=rate_limit
	3 path=/api/v1/ error=credits
	EOF
	mock_stop &&
	mock_start --scenario or.scn &&
	openrouter o1 && openrouter o2 && openrouter o3 && openrouter o4 &&
	status_is 200 o1 &&
	jcheck o1.body <<-\EOF &&
	isinstance(d["error"]["code"], int) and not isinstance(d["error"]["code"], bool)
	isinstance(d["error"]["message"], str)
	not d.get("choices")
	EOF
	status_is 429 o2 &&
	jcheck o2.body <<-\EOF &&
	d["error"]["code"] == 429
	EOF
	status_is 402 o3 &&
	jcheck o3.body <<-\EOF &&
	d["error"]["code"] == 402
	EOF
	status_is 200 o4 &&
	jcheck o4.body <<-\EOF
	"error" not in d
	isinstance(d["usage"]["cost"], (int, float))
	EOF
'

test_expect_success CURL,PYTHON3 'body=@FILE (relative to the scenario) and body=TEXT' '
	mkdir -p scn &&
	printf "{\"id\":\"canned\",\"choices\":[]}\n" >scn/reply.json &&
	{
		echo "1 body=@reply.json" &&
		printf "2 status=422 body=\047{\"custom\":true}\047\n" &&
		printf "3 status=200 body=\047not json\047 header=\"Content-Type: text/plain\"\n"
	} >scn/body.scn &&
	mock_stop &&
	mock_start --scenario scn/body.scn &&
	chat b1 && chat b2 && chat b3 && chat b4 &&
	status_is 200 b1 &&
	test_cmp scn/reply.json b1.body &&
	status_is 422 b2 &&
	printf "{\"custom\":true}" >expect &&
	test_cmp expect b2.body &&
	status_is 200 b3 &&
	printf "not json" >expect &&
	test_cmp expect b3.body &&
	is_normal_chat b4
'

test_expect_success CURL,PYTHON3 'header=: added to the normal answer, repeatable' '
	cat >header.scn <<-\EOF &&
	1 header="X-Mock-One: 1" header="X-Mock-Two: two words"
	2 status=503 header="retry-after: 7"
	EOF
	mock_stop &&
	mock_start --scenario header.scn &&
	chat h1 && chat h2 && chat h3 &&
	is_normal_chat h1 &&
	header_is h1 X-Mock-One 1 &&
	header_is h1 X-Mock-Two "two words" &&
	status_is 503 h2 &&
	header_is h2 retry-after 7 &&
	is_normal_chat h3 &&
	no_header h3 X-Mock-One
'

test_expect_success CURL,PYTHON3 'delay=300: the normal answer, at least 300 ms later' '
	echo "1 delay=300" >delay.scn &&
	mock_stop &&
	mock_start --scenario delay.scn &&
	curl -sS -o d1.body -w "%{http_code} %{time_total}\n" -d @chat.json \
		"$MOCK_URL/v1/chat/completions" >d1.out &&
	read -r code secs <d1.out &&
	test "$code" = 200 &&
	num_between "$secs" 0.3 3 &&
	echo 200 >d1.code &&
	is_normal_chat d1 &&
	logged 1 delay
'

test_expect_success CURL,PYTHON3 'stall: no answer (curl times out, exit 28) while other requests are answered' '
	echo "1 path=/tavily/ stall" >stall.scn &&
	mock_stop &&
	mock_start --scenario stall.scn &&
	curl_rc_bg stall --max-time 1 -d @tavily.json "$MOCK_URL/tavily/search" &&
	chat other &&
	is_normal_chat other &&
	wait "$bg_pid" &&
	echo 28 >expect &&
	test_cmp expect stall.rc &&
	tavily later &&
	status_is 200 later &&
	grep "\"fault\":\"stall\"" "$MOCK_LOG"
'

test_expect_success CURL,PYTHON3 'drip=100: a 50-byte answer takes at least 0.3 s, and arrives whole' '
	printf "1 body=\047{\"ok\":true,\"pad\":\"abcdefghijklmnopqrstuvwxyz012345\"}\047 drip=100\n" >drip.scn &&
	mock_stop &&
	mock_start --scenario drip.scn &&
	curl -sS -o drip.body -w "%{http_code} %{time_total}\n" -d @chat.json \
		"$MOCK_URL/v1/chat/completions" >drip.out &&
	read -r code secs <drip.out &&
	test "$code" = 200 &&
	num_between "$secs" 0.3 15 &&
	printf "{\"ok\":true,\"pad\":\"abcdefghijklmnopqrstuvwxyz012345\"}" >expect &&
	test_cmp expect drip.body &&
	logged 1 drip
'

test_expect_success CURL,PYTHON3 'truncate=10: full Content-Length, 10 bytes, curl exit 18' '
	echo "1 truncate=10" >truncate.scn &&
	mock_stop &&
	mock_start --scenario truncate.scn &&
	curl_rc tr -d @chat.json "$MOCK_URL/v1/chat/completions" &&
	rc_in tr 18 &&
	chat full &&
	is_normal_chat full &&
	header tr Content-Length >tr.length &&
	wc -c <full.body | tr -d " " >full.length &&
	test_cmp full.length tr.length &&
	head -c 10 full.body >expect &&
	test_cmp expect tr.body &&
	logged 1 truncate
'

test_expect_success CURL,PYTHON3 'reset: connection reset, no answer (curl exit 56 or 52); the next is answered' '
	echo "1 reset" >reset.scn &&
	mock_stop &&
	mock_start --scenario reset.scn &&
	curl_rc rs -d @chat.json "$MOCK_URL/v1/chat/completions" &&
	rc_in rs 52 56 &&
	test_must_be_empty rs.body &&
	chat next &&
	is_normal_chat next &&
	logged 1 reset
'

test_expect_success CURL,PYTHON3 'close-after-headers: the headers, then the end (curl exit 18 or 52)' '
	echo "1 close-after-headers" >cah.scn &&
	mock_stop &&
	mock_start --scenario cah.scn &&
	curl_rc cah -d @chat.json "$MOCK_URL/v1/chat/completions" &&
	rc_in cah 18 52 &&
	test_must_be_empty cah.body &&
	if test "$(cat cah.rc)" = 18; then
		test_grep "^HTTP/1.1 200" cah.headers
	fi &&
	chat next &&
	is_normal_chat next &&
	logged 1 close-after-headers
'

test_expect_success CURL,PYTHON3 'garbage: 200 with a body that is not JSON' '
	echo "1 garbage" >garbage.scn &&
	mock_stop &&
	mock_start --scenario garbage.scn &&
	chat g &&
	status_is 200 g &&
	test -s g.body &&
	test_must_fail python3 -c "import json, sys; json.load(open(sys.argv[1]))" g.body 2>/dev/null &&
	logged 1 garbage
'

test_expect_success CURL 'ranges: N-M, N and N-' '
	cat >ranges.scn <<-\EOF &&
	1-2 status=500
	3 status=502
	5- status=503
	EOF
	mock_stop &&
	mock_start --scenario ranges.scn &&
	for i in 1 2 3 4 5 6 7; do
		chat r$i && cat r$i.code || return 1
	done >codes &&
	cat >expect <<-\EOF &&
	500
	500
	502
	200
	503
	503
	503
	EOF
	test_cmp expect codes
'

test_expect_success CURL 'the first matching rule wins; * matches every request' '
	cat >first.scn <<-\EOF &&
	2 status=404
	1-3 status=500
	* header="X-All: yes"
	EOF
	mock_stop &&
	mock_start --scenario first.scn &&
	for i in 1 2 3 4 5; do
		chat f$i && cat f$i.code || return 1
	done >codes &&
	printf "500\n404\n500\n200\n200\n" >expect &&
	test_cmp expect codes &&
	no_header f1 X-All &&
	no_header f2 X-All &&
	header_is f4 X-All yes &&
	header_is f5 X-All yes
'

test_expect_success CURL,PYTHON3 'path= rules count their own requests; rules with the same path share the count' '
	cat >path.scn <<-\EOF &&
	1 path=/tavily/ error=plan_limit
	2 path=/tavily/ status=500
	1 path=/v1/messages status=529
	2 status=503
	EOF
	mock_stop &&
	mock_start --scenario path.scn &&
	tavily p1 && chat p2 && tavily p3 && anthropic p4 && tavily p5 && anthropic p6 && chat p7 &&
	for i in 1 2 3 4 5 6 7; do
		cat p$i.code || return 1
	done >codes &&
	printf "432\n503\n500\n529\n200\n200\n200\n" >expect &&
	test_cmp expect codes &&
	jcheck p4.body <<-\EOF
	d["type"] == "error"
	d["error"]["type"] == "overloaded_error"
	EOF
'

# bad_scenario LINE TEXT...: a scenario whose line LINE is wrong makes mockd
# exit non-zero with a message naming bad.scn:LINE.
bad_scenario() {
	bad_line=$1
	shift
	printf "%s\n" "$@" >bad.scn &&
	rm -f bad.port &&
	test_must_fail mockd --scenario bad.scn --port-file bad.port --lifetime 1 >bad.out 2>bad.err &&
	test_grep "bad\.scn:$bad_line\\b" bad.err &&
	test_path_is_missing_ bad.port
}

test_path_is_missing_() {
	if [ -e "$1" ]; then
		echo >&4 "$1 exists"
		return 1
	fi
}

test_expect_success 'a bad scenario file: exit non-zero, naming file:line' '
	bad_scenario 3 "# comment" "1 status=500" "x-y status=200" &&
	bad_scenario 2 "1 status=500" "2 frobnicate" &&
	bad_scenario 1 "1 error=no_such_kind" &&
	bad_scenario 2 "" "1 status=abc" &&
	bad_scenario 1 "1 body=@missing.json" &&
	bad_scenario 1 "1 delay=soon" &&
	bad_scenario 1 "1 header=\"no colon\"" &&
	bad_scenario 1 "1 path=/v1/ status=200 drip=x"
'

test_expect_success 'a rule without an action is an error' '
	bad_scenario 2 "1 status=500" "2" &&
	bad_scenario 1 "* path=/tavily/"
'

test_expect_success 'a missing scenario file: exit non-zero' '
	test_must_fail mockd --scenario no-such.scn --port-file nope.port --lifetime 1 2>err &&
	test_grep "no-such.scn" err
'

test_done
