#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
test_description='mockd: the log, --port-file, loopback only, keep-alive, concurrency, --lifetime, SIGTERM'
. ./lib.sh
. "$TEST_DIRECTORY/lib-mock.sh"

KEY=sk-log-SECRET-a1b2c3d4e5f6

# log_to_json LOG OUT: the JSON lines of LOG as one JSON array in OUT (fails
# when a line is not a JSON object).
log_to_json() {
	python3 -c '
import json, sys
lines = []
for i, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    try:
        v = json.loads(line)
    except ValueError as e:
        sys.exit("log line %d is not JSON (%s): %s" % (i, e, line))
    if not isinstance(v, dict):
        sys.exit("log line %d is not an object: %s" % (i, line))
    lines.append(v)
json.dump(lines, open(sys.argv[2], "w"))
' "$1" "$2"
}

# now_ms: the time in milliseconds.
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# exits_within PID SECONDS START: PID ends within SECONDS; its exit status
# in exit.rc, the time from START (in ms, from now_ms) to its end in exit.ms.
exits_within() {
	ew_tries=$(($2 * 20))
	while kill -0 "$1" 2>/dev/null; do
		ew_tries=$((ew_tries - 1))
		if [ "$ew_tries" -le 0 ]; then
			echo >&4 "exits_within: $1 still running after $2 s"
			return 1
		fi
		sleep 0.05
	done
	echo $(($(now_ms) - $3)) >exit.ms
	wait "$1"
	echo $? >exit.rc
}

# curl_bg NAME CURL-ARGS...: curl in the background, the body in NAME.body,
# its exit status in NAME.rc once done; its pid in bg_pid.
curl_bg() {
	curl_bg_name=$1
	shift
	{
		curl -sS -o "$curl_bg_name.body" "$@" 2>"$curl_bg_name.err"
		echo $? >"$curl_bg_name.rc"
	} &
	bg_pid=$!
}

test_lazy_prereq OTHER_ADDRESSES '
	for a in $(hostname -I); do
		case $a in 127.*|::1) ;; *) exit 0 ;; esac
	done
	exit 1
'

test_expect_success CURL 'setup' '
	echo "{\"model\":\"mock-model\",\"messages\":[{\"role\":\"user\",\"content\":\"Company: Acme\"}]}" >same.json &&
	echo "{\"model\":\"mock-model\",\"messages\":[{\"role\":\"user\",\"content\":\"Company: Initech\"}]}" >other.json &&
	echo "{\"query\":\"gpu cloud\"}" >tavily.json &&
	mock_start --key "$KEY"
'

test_expect_success CURL,PYTHON3 'the log: one JSON line per request, /_stats not logged' '
	req r1 -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" --data-binary @same.json \
		"$MOCK_URL/v1/chat/completions" &&
	req r2 -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" --data-binary @same.json \
		"$MOCK_URL/v1/chat/completions" &&
	req r3 -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" --data-binary @other.json \
		"$MOCK_URL/v1/chat/completions" &&
	req st1 "$MOCK_URL/_stats" &&
	req r4 -H "Content-Type: application/json" --data-binary @same.json "$MOCK_URL/v1/chat/completions" &&
	req r5 -H "X-Subscription-Token: $KEY" "$MOCK_URL/brave/res/v1/web/search?q=gpu+cloud" &&
	req r6 -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" --data-binary @tavily.json \
		"$MOCK_URL/tavily/search" &&
	req st2 "$MOCK_URL/_stats" &&
	status_is 200 r1 && status_is 200 r2 && status_is 200 r3 && status_is 401 r4 &&
	status_is 200 r5 && status_is 200 r6 &&
	test_line_count = 6 "$MOCK_LOG" &&
	log_to_json "$MOCK_LOG" log.json &&
	jcheck log.json <<-\EOF
	[l["n"] for l in d] == [1, 2, 3, 4, 5, 6]
	all(isinstance(l["t"], (int, float)) and l["t"] >= 0 for l in d)
	[l["t"] for l in d] == sorted(l["t"] for l in d)
	[l["method"] for l in d] == ["POST", "POST", "POST", "POST", "GET", "POST"]
	[l["path"] for l in d[:4]] == ["/v1/chat/completions"] * 4
	d[4]["path"].startswith("/brave/res/v1/web/search")
	d[5]["path"] == "/tavily/search"
	[l["route"] for l in d[:4]] == ["chat"] * 4
	all(isinstance(l["route"], str) and l["route"] for l in d)
	d[4]["route"] != d[5]["route"] != "chat"
	[l["auth"] for l in d] == [True, True, True, False, True, True]
	[l["key"] for l in d] == [1, 1, 1, 0, 1, 1]
	[l["status"] for l in d] == [200, 200, 200, 401, 200, 200]
	[l["model"] for l in d[:4]] == ["mock-model"] * 4
	all(l.get("fault") is None for l in d)
	all(re.fullmatch("[0-9a-f]{16}", l["body_hash"]) for l in d)
	d[0]["body_hash"] == d[1]["body_hash"] == d[3]["body_hash"]
	d[0]["body_hash"] != d[2]["body_hash"]
	d[4]["body_bytes"] == 0
	EOF
'

test_expect_success CURL,PYTHON3 'the log: body_bytes is the size, body_hash the FNV-1a 64 of the body' '
	python3 -c "
import json, sys
def fnv1a64(b):
    h = 0xcbf29ce484222325
    for c in b:
        h = ((h ^ c) * 0x100000001b3) & 0xffffffffffffffff
    return \"%016x\" % h
log = json.load(open(\"log.json\"))
for i, f in ((0, \"same.json\"), (1, \"same.json\"), (2, \"other.json\"), (4, None), (5, \"tavily.json\")):
    body = open(f, \"rb\").read() if f else b\"\"
    assert log[i][\"body_bytes\"] == len(body), (i, log[i], len(body))
    assert log[i][\"body_hash\"] == fnv1a64(body), (i, log[i], fnv1a64(body))
"
'

test_expect_success CURL,PYTHON3 '/_stats: the requests, by status, not itself' '
	jcheck st1.body <<-\EOF &&
	d["requests"] == 3
	d["by_status"] == {"200": 3}
	d["in_flight"] == 0
	d["rate_limited"] == 0
	EOF
	jcheck st2.body <<-\EOF
	d["requests"] == 6
	d["by_status"] == {"200": 5, "401": 1}
	d["in_flight"] == 0
	EOF
'

test_expect_success CURL 'the key never appears in the log' '
	! grep -F -e "$KEY" "$MOCK_LOG" &&
	! grep -F -e "${KEY#sk-log-}" "$MOCK_LOG"
'

test_expect_success CURL '--port-file holds the port and a newline' '
	echo "$MOCK_PORT" >expect &&
	test_cmp expect "$mock_dir/port" &&
	grep -x "[1-9][0-9]*" "$mock_dir/port" &&
	test "$MOCK_PORT" -le 65535
'

test_expect_success CURL 'mockd listens on 127.0.0.1 only (ss)' '
	if command -v ss >/dev/null; then
		ss -Hltn "sport = :$MOCK_PORT" >listening &&
		awk "{ print \$4 }" listening >addresses &&
		echo "127.0.0.1:$MOCK_PORT" >expect &&
		test_cmp expect addresses
	fi
'

test_expect_success CURL,OTHER_ADDRESSES 'the other addresses of the machine do not answer' '
	for a in $(hostname -I); do
		case $a in
		127.* | ::1) continue ;;
		*:*) url="http://[$a]:$MOCK_PORT/_stats" ;;
		*) url="http://$a:$MOCK_PORT/_stats" ;;
		esac &&
		test_must_fail curl -sS --max-time 2 -o out "$url" || return 1
	done
'

test_expect_success CURL,PYTHON3 'keep-alive: three requests on one connection get three answers' '
	n0=$(wc -l <"$MOCK_LOG") &&
	curl -sS -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" --data-binary @same.json \
		-o ka1.body -o ka2.body -o ka3.body -w "%{http_code} %{num_connects}\n" \
		"$MOCK_URL/v1/chat/completions" "$MOCK_URL/v1/chat/completions" \
		"$MOCK_URL/openai/v1/chat/completions" >ka.out &&
	printf "200 1\n200 0\n200 0\n" >expect &&
	test_cmp expect ka.out &&
	jcheck ka1.body ka2.body ka3.body <<-\EOF &&
	d["choices"][0]["finish_reason"] == "stop"
	EOF
	n1=$(wc -l <"$MOCK_LOG") &&
	test $((n1 - n0)) = 3
'

test_expect_success CURL,PYTHON3 'keep-alive: GET then POST on one connection (--next)' '
	n0=$(wc -l <"$MOCK_LOG") &&
	curl -sS -H "Authorization: Bearer $KEY" -o nx1.body -w "%{http_code} %{num_connects}\n" \
		"$MOCK_URL/v1/models" \
		--next -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" --data-binary @other.json \
		-o nx2.body -w "%{http_code} %{num_connects}\n" "$MOCK_URL/v1/chat/completions" >nx.out &&
	printf "200 1\n200 0\n" >expect &&
	test_cmp expect nx.out &&
	jcheck nx2.body <<-\EOF &&
	d["choices"][0]["finish_reason"] == "stop"
	EOF
	n1=$(wc -l <"$MOCK_LOG") &&
	test $((n1 - n0)) = 2
'

test_expect_success CURL,PYTHON3 '50 parallel requests, 200 ms each: all answered, concurrently' '
	mock_stop &&
	mock_start --latency 200 &&
	: >par.cfg &&
	for i in $(seq 1 50); do
		printf "url = \"%s\"\noutput = \"par.%d.body\"\n" "$MOCK_URL/v1/chat/completions" $i >>par.cfg
	done &&
	started=$(now_ms) &&
	curl -sS --parallel --parallel-max 50 -K par.cfg -H "Content-Type: application/json" --data-binary @same.json \
		-w "%{http_code}\n" >par.codes &&
	took=$(($(now_ms) - started)) &&
	test_line_count = 50 par.codes &&
	sort -u par.codes >par.set &&
	echo 200 >expect &&
	test_cmp expect par.set &&
	# one after the other would take 10 s
	num_between "$took" 200 5000 &&
	test_line_count = 50 "$MOCK_LOG" &&
	log_to_json "$MOCK_LOG" par.json &&
	jcheck par.json <<-\EOF &&
	sorted(l["n"] for l in d) == list(range(1, 51))
	all(l["status"] == 200 for l in d)
	EOF
	req stats "$MOCK_URL/_stats" &&
	jcheck stats.body <<-\EOF
	d["requests"] == 50
	d["by_status"] == {"200": 50}
	d["in_flight"] == 0
	EOF
'

test_expect_success CURL,PYTHON3 '/_stats: in_flight counts a stalled request' '
	echo "1 path=/tavily/ stall" >stall.scn &&
	mock_stop &&
	mock_start --scenario stall.scn &&
	curl_bg stall --max-time 1.5 --data-binary @tavily.json "$MOCK_URL/tavily/search" &&
	tries=0 &&
	until req stats "$MOCK_URL/_stats" && grep "\"in_flight\":1[,}]" stats.body >/dev/null ||
		test $tries -ge 40
	do
		tries=$((tries + 1)) &&
		sleep 0.05
	done &&
	jcheck stats.body <<-\EOF &&
	d["in_flight"] == 1
	EOF
	wait "$bg_pid" &&
	echo 28 >expect &&
	test_cmp expect stall.rc
'

test_expect_success CURL '--lifetime 1: mockd exits by itself, status 0' '
	mock_stop &&
	started=$(now_ms) &&
	mock_start --lifetime 1 &&
	req alive -H "Content-Type: application/json" --data-binary @same.json "$MOCK_URL/v1/chat/completions" &&
	status_is 200 alive &&
	exits_within "$MOCK_PID" 5 "$started" &&
	echo 0 >expect &&
	test_cmp expect exit.rc &&
	num_between "$(cat exit.ms)" 900 5000 &&
	test_must_fail curl -sS --max-time 2 -o gone "$MOCK_URL/_stats"
'

test_expect_success CURL '--lifetime 1 with a stalled request in progress: exits all the same' '
	echo "* stall" >stall-all.scn &&
	started=$(now_ms) &&
	mock_start --lifetime 1 --scenario stall-all.scn &&
	curl_bg stalled --max-time 8 --data-binary @same.json "$MOCK_URL/v1/chat/completions" &&
	exits_within "$MOCK_PID" 5 "$started" &&
	echo 0 >expect &&
	test_cmp expect exit.rc &&
	wait "$bg_pid" &&
	case $(cat stalled.rc) in 52 | 56) ;; *) cat >&4 stalled.rc stalled.err; false ;; esac
'

test_expect_success CURL,PYTHON3 'SIGTERM: mockd exits with status 0, its log complete' '
	mock_start &&
	req before -H "Content-Type: application/json" --data-binary @same.json "$MOCK_URL/v1/chat/completions" &&
	status_is 200 before &&
	started=$(now_ms) &&
	kill -TERM "$MOCK_PID" &&
	exits_within "$MOCK_PID" 5 "$started" &&
	echo 0 >expect &&
	test_cmp expect exit.rc &&
	test_line_count = 1 "$MOCK_LOG" &&
	log_to_json "$MOCK_LOG" term.json &&
	jcheck term.json <<-\EOF
	d[0]["status"] == 200
	EOF
'

test_done
