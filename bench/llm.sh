#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Benchmark jl-llm against build/mockd and its peers, in one run:
#  1. rate-limit fidelity: the mock limits to 600 requests a minute and
#     answers after 200 ms; jl-llm --rpm 600 sends BENCH_RECORDS requests.
#     From the mock's log: the rate achieved as a share of the limit
#     (target >= 95%) and the share of requests that got a 429 (target < 1%);
#  2. raw speed: the mock unlimited, latency 0 and 50 ms: requests/s with
#     -j 64 (target >= 3,000/s at 50 ms) and -j 256, and the user+sys CPU
#     time per request;
#  4. limits the user does not know (no --rpm/--tpm): 1,200 requests at a
#     600-a-minute bucket that starts full (the best possible is 60 s),
#     200 ms latency, default -j 8, against a server with no hints at all
#     (mockd --no-hints), Gemini's (no headers, the wait only in the 429's
#     body) and one with limit headers: the wall time (target: within
#     70 s) and the share of 429s (target: at most 3%, 1% with headers);
#     and a Groq-style server whose binding limit is tokens a minute while
#     its request headers count a day: the time against the token bound
#     (the charged tokens less the bucket's, at the limit; target: within
#     15%). The peer of each is the same run with the limit given by flag
#     (--rpm 600, --tpm): the strict pace, without the server's burst.
#  3. peers, on the same requests at the same latencies: a Python asyncio +
#     aiohttp client with a semaphore of 64 (the pattern of the OpenAI
#     cookbook's api_request_parallel_processor.py; Debian's python3-aiohttp)
#     and `xargs -P 64 curl`: jl-llm's speed-up over each (target >= 3x the
#     Python client).
# Not a timed test: run it with `make bench` on an idle machine; it takes
# about 11 minutes (12 on a busy machine): part 1 (2,000 requests at 600 a
# minute) 4, part 4 (runs bound by the server's clock, so each runs once) 7.
# BENCH_RECORDS sets the number of requests (default 2000), BENCH_RPM the
# limit of part 1 (default 600), BENCH_RUNS the runs of parts 2 and 3 (the
# best is kept; default 3; curl runs once), BENCH_PARTS which parts run
# (default "1 2 3 4"; parts 2 and 3 run together).
set -eu
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRCDIR/build}
BENCH_RECORDS=${BENCH_RECORDS:-2000}
BENCH_RPM=${BENCH_RPM:-600}
BENCH_RUNS=${BENCH_RUNS:-3}
BENCH_PARTS=${BENCH_PARTS:-1 2 3 4}
PYTHON=${PYTHON:-/usr/bin/python3}
work=${BENCH_DIR:-$BUILD/bench}
mkdir -p "$work"

# The mock takes this key; jl-llm and the peers send it.
OPENAI_API_KEY=bench-key GEMINI_API_KEY=bench-key GROQ_API_KEY=bench-key
# A limiter state of our own, fresh for each run.
XDG_RUNTIME_DIR=$work/xdg
MOCK_KEY=$OPENAI_API_KEY
export OPENAI_API_KEY GEMINI_API_KEY GROQ_API_KEY XDG_RUNTIME_DIR
unset JL_DB JL_MODEL

MODEL=mock-model
n=$BENCH_RECORDS
records=$work/llm-records-$n.jsonl
awk -v n="$n" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"id\":%d,\"name\":\"Company %d\"}\n", i, i }' \
	>"$records"

# shellcheck source=bench/lib.sh
. "$SRCDIR/bench/lib.sh"


jl_llm() {
	"$BUILD/jl-llm" -q -m "openai/$MODEL" --base-url "$url/v1" -p 'Summarise {{.name}}' "$@" \
		<"$records"
}

# --- part 1: rate-limit fidelity ---------------------------------------------

part1() {
	echo "== 1. rate-limit fidelity: mock --rpm $BENCH_RPM --latency 200, jl-llm --rpm $BENCH_RPM, $n requests"
	rm -rf "$XDG_RUNTIME_DIR"
	mkdir -m 700 "$XDG_RUNTIME_DIR"
	log=$work/llm-rate.log
	rm -f "$log"
	start_mock rate $((n * 60 / BENCH_RPM + 120)) --rpm "$BENCH_RPM" --latency 200 --log "$log"
	expect_s=$(awk -v n="$n" -v r="$BENCH_RPM" 'BEGIN { printf "%.0f", n * 60 / r }')
	echo "(about $expect_s s)"
	m=$(run "$work/llm-rate.out" jl_llm --rpm "$BENCH_RPM" -j 8)
	stop_mock
	ok=$(count_ok "$work/llm-rate.out" '"llm":{"content"')
	rate_fidelity "$log" chat "$BENCH_RPM" "$ok" "$n" "$m" jl-llm
	summary jl-llm "share of $BENCH_RPM rpm at 200 ms, -j 8" "$share %" - - - ">= 95 %, < 1 % 429s ($limited %)"
	echo
}

# --- parts 2 and 3: raw speed and the peers -----------------------------------

# The Python peer: asyncio + aiohttp, one ClientSession, a task per request
# behind a semaphore of 64, the JSON answer parsed, results written as JSON
# Lines, failures retried up to 5 attempts, as the OpenAI cookbook's
# api_request_parallel_processor.py does (without its token counting).
write_python_peer() {
	cat >"$work/aiohttp_peer.py" <<'PY'
import asyncio, json, os, sys, time

import aiohttp


async def main(url, path, out, limit):
    key = os.environ["OPENAI_API_KEY"]
    headers = {"Authorization": "Bearer " + key}
    with open(path) as f:
        records = [json.loads(line) for line in f]
    sem = asyncio.Semaphore(limit)
    counts = {"ok": 0, "failed": 0}

    async def call(session, record):
        body = {"model": "mock-model",
                "messages": [{"role": "user", "content": "Summarise " + record["name"]}]}
        async with sem:
            for attempt in range(5):
                try:
                    async with session.post(url, headers=headers, json=body) as resp:
                        answer = await resp.json()
                    if "error" in answer:
                        continue
                    record["llm"] = answer["choices"][0]["message"]["content"]
                    out.write(json.dumps(record) + "\n")
                    counts["ok"] += 1
                    return
                except Exception:
                    continue
            counts["failed"] += 1

    start = time.monotonic()
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(call(session, r) for r in records))
    print("%d ok, %d failed, %.3f s in the event loop"
          % (counts["ok"], counts["failed"], time.monotonic() - start), file=sys.stderr)


asyncio.run(main(sys.argv[1], sys.argv[2], sys.stdout, int(sys.argv[3])))
PY
}

# The request bodies for curl, one per line.
write_bodies() {
	awk -v model="$MODEL" '{
		match($0, /"name":"[^"]*"/); name = substr($0, RSTART + 8, RLENGTH - 9)
		printf "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"Summarise %s\"}]}\n", model, name
	}' "$records" >"$work/llm-bodies.jsonl"
}

python_peer() {
	"$PYTHON" "$work/aiohttp_peer.py" "$url/v1/chat/completions" "$records" 64
}

curl_peer() {
	tr '\n' '\0' <"$work/llm-bodies.jsonl" |
		xargs -0 -P 64 -I '{}' curl -s -w '\n' -H "Authorization: Bearer $OPENAI_API_KEY" \
			-H 'Content-Type: application/json' -d '{}' "$url/v1/chat/completions"
}

# report NAME "WALL CPU" OK: one line of the table; sets rate.
report() {
	rate=$(echo "$2" | awk -v n="$n" '{ printf "%.0f", n / $1 }')
	echo "$2" | awk -v name="$1" -v n="$n" -v ok="$3" '{
		printf "%-34s %7.3f s %8.0f req/s %8.3f ms CPU/req  (%d/%d ok)\n", name, $1, n / $1, $2 / n * 1000, ok, n
	}'
}

part23() {
	have_python=
	if "$PYTHON" -c 'import aiohttp' 2>/dev/null; then
		have_python=t
		write_python_peer
		py_start=$(run "$work/llm-py-start.out" "$PYTHON" -c 'import asyncio, aiohttp')
	fi
	write_bodies
	for latency in 0 50; do
		echo "== 2./3. mock unlimited, latency $latency ms, $n requests (best of $BENCH_RUNS; wall time of the whole command)"
		start_mock speed 600 --latency "$latency"
		j64='' j256='' py=''
		i=0
		while [ "$i" -lt "$BENCH_RUNS" ]; do
			j64=$(best "$j64" "$(run "$work/llm-j64.out" jl_llm -j 64)")
			j256=$(best "$j256" "$(run "$work/llm-j256.out" jl_llm -j 256)")
			if [ -n "$have_python" ]; then
				py=$(best "$py" "$(run "$work/llm-py.out" python_peer)")
			fi
			i=$((i + 1))
		done
		cu=$(run "$work/llm-curl.out" curl_peer)
		stop_mock

		report "jl-llm -j 64" "$j64" "$(count_ok "$work/llm-j64.out" '"llm":{"content"')"
		r64=$rate
		report "jl-llm -j 256" "$j256" "$(count_ok "$work/llm-j256.out" '"llm":{"content"')"
		r256=$rate
		if [ -n "$have_python" ]; then
			report "python3 asyncio+aiohttp, sem 64" "$py" "$(count_ok "$work/llm-py.out" '"llm"')"
			rpy=$rate
			echo "$py_start" | awk '{ printf "    (of which %.3f s is starting python3 and importing aiohttp)\n", $1 }'
		fi
		report "xargs -P 64 curl" "$cu" "$(count_ok "$work/llm-curl.out" '"choices"')"
		rcu=$rate

		if [ "$latency" = 50 ]; then
			echo "raw speed at 50 ms, -j 64:  $r64 req/s (target >= 3000: $(verdict "$r64" ">=" 3000))"
			echo "  64 requests in flight that each take 50 ms allow at most 64 / 0.05 = 1280 req/s,"
			echo "  so -j 64 cannot meet 3,000 req/s at this latency, whatever the client."
			echo "raw speed at 50 ms, -j 256: $r256 req/s (target >= 3000: $(verdict "$r256" ">=" 3000); ceiling 5120)"
		else
			echo "raw speed at 0 ms, -j 64:   $r64 req/s"
		fi
		if [ -n "$have_python" ]; then
			awk -v a="$r64" -v b="$rpy" -v lat="$latency" 'BEGIN {
				x = a / b
				printf "jl-llm -j 64 vs Python aiohttp (64): %.2fx (target >= 3x: %s)%s\n", x, (x >= 3 ? "met" : "NOT met"), \
					(lat == 50 ? "; both are capped at 1280 req/s here" : "")
			}'
		else
			echo "jl-llm vs Python aiohttp: $PYTHON cannot import aiohttp (apt-get install python3-aiohttp): skipped"
		fi
		awk -v a="$r64" -v b="$rcu" 'BEGIN { printf "jl-llm -j 64 vs xargs -P 64 curl:   %.2fx\n", a / b }'
		if [ -n "$have_python" ]; then
			summary jl-llm "req/s at $latency ms latency, -j 64" "$r64 req/s" "Python aiohttp (64)" \
				"$rpy req/s" "$(ratio "$r64" "$rpy")" ">= 3x aiohttp"
		fi
		summary jl-llm "req/s at $latency ms latency, -j 64" "$r64 req/s" "xargs -P 64 curl" \
			"$rcu req/s" "$(ratio "$r64" "$rcu")" -
		echo
	done
}

# --- part 4: limits the user does not know -------------------------------------

# limit_run NAME MODEL PREFIX RECORDS [jl-llm options]: a fresh limiter, the
# run; prints "WALL CPU"; the mock's log is $work/llm-NAME.log.
limit_run() {
	name=$1 model=$2 prefix=$3 input=$4
	shift 4
	rm -rf "$XDG_RUNTIME_DIR"
	mkdir -m 700 "$XDG_RUNTIME_DIR"
	# shellcheck disable=SC2016 # the inner shell expands them
	run "$work/llm-$name.out" sh -c '"$@" <"$0"' "$input" "$BUILD/jl-llm" -q -m "$model" \
		--base-url "$url$prefix" -p 'Summarise {{.name}}' "$@"
}

# limited_share LOG: the share of the chat requests in the mock's log answered 429, in percent.
limited_share() {
	awk '/chat\/completions/ { all++; if ($0 ~ /"status":429/) lim++ }
		END { printf "%.2f", (all > 0 ? lim * 100 / all : 0) }' "$1"
}

# limited_count LOG: "429s of requests".
limited_count() {
	awk '/chat\/completions/ { all++; if ($0 ~ /"status":429/) lim++ }
		END { printf "%d of %d", lim, all }' "$1"
}

# limits_mode MODE MODEL PREFIX [mockd options]: one run of part 4 without
# flags; prints its line, sets wall and pct.
limits_mode() {
	mode=$1 model=$2 prefix=$3
	shift 3
	log=$work/llm-$mode.log
	rm -f "$log"
	start_mock "limits-$mode" 400 --rpm 600 --latency 200 --log "$log" "$@"
	m=$(limit_run "$mode" "$model" "$prefix" "$records4")
	stop_mock
	wall=$(echo "$m" | cut -d' ' -f1)
	pct=$(limited_share "$log")
	target=3
	[ "$mode" = headers ] && target=1
	awk -v mode="$mode" -v w="$wall" -v p="$pct" -v c="$(limited_count "$log")" -v t="$target" \
		-v ok="$(count_ok "$work/llm-$mode.out" '"llm":{"content"')" 'BEGIN {
		printf "%-9s %6.1f s (target <= 70: %s), %s requests got 429: %.2f%% (target <= %d%%: %s), %d ok\n", \
			mode, w, (w <= 70 ? "met" : "NOT met"), c, p, t, (p <= t ? "met" : "NOT met"), ok
	}'
}

# limits_summary MODE WALL PCT TARGET: the ratio to the flag's run, and the summary line.
limits_summary() {
	echo "$1: the learned pace is $(ratio "$wall_flag" "$2")x as fast as --rpm 600"
	summary jl-llm "1,200 req at a 600 rpm bucket, no flags, $1" "$2 s, $3 % 429s" \
		"--rpm 600" "$wall_flag s" "$(ratio "$wall_flag" "$2")" "<= 70 s, <= $4 % 429s"
}

part4() {
	n4=1200
	records4=$work/llm-records-$n4.jsonl
	awk -v n="$n4" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"id\":%d,\"name\":\"Company %d\"}\n", i, i }' \
		>"$records4"
	echo "== 4. limits not given: $n4 requests at a 600-a-minute bucket that starts full, 200 ms, -j 8 (60 s at best)"
	limits_mode no-hints openai/$MODEL /v1 --no-hints
	wall_none=$wall pct_none=$pct
	limits_mode gemini gemini/$MODEL /v1beta/openai
	wall_gemini=$wall pct_gemini=$pct
	limits_mode headers openai/$MODEL /v1
	wall_headers=$wall pct_headers=$pct
	# The peer: the limit given by flag (the same for every mode: it paces alone).
	log=$work/llm-flag.log
	rm -f "$log"
	start_mock limits-flag 400 --rpm 600 --latency 200 --log "$log" --no-hints
	m=$(limit_run flag "openai/$MODEL" /v1 "$records4" --rpm 600)
	stop_mock
	wall_flag=$(echo "$m" | cut -d' ' -f1)
	printf '%-9s %6.1f s, %s requests got 429 (--rpm 600: one every 101 ms, no burst)\n' \
		"--rpm 600" "$wall_flag" "$(limited_count "$log")"
	limits_summary no-hints "$wall_none" "$pct_none" 3
	limits_summary gemini "$wall_gemini" "$pct_gemini" 3
	limits_summary headers "$wall_headers" "$pct_headers" 1

	# Groq: tokens a minute bind; the request headers count a day.
	n5=500 tpm=30000 max=100
	records5=$work/llm-records-$n5.jsonl
	head -n "$n5" "$records4" >"$records5"
	echo "== 4. Groq-style: $n5 requests, --max-tokens $max, a $tpm-token-a-minute bucket, 14,400 requests a day"
	for how in learned flag; do
		log=$work/llm-groq-$how.log
		rm -f "$log"
		start_mock "groq-$how" 400 --tpm "$tpm" --rpd 14400 --latency 200 --log "$log"
		if [ "$how" = flag ]; then
			m=$(limit_run "groq-$how" "groq/$MODEL" /openai/v1 "$records5" --max-tokens "$max" --tpm "$tpm")
		else
			m=$(limit_run "groq-$how" "groq/$MODEL" /openai/v1 "$records5" --max-tokens "$max")
		fi
		stop_mock
		echo "$how: $(echo "$m" | cut -d' ' -f1) s, $(limited_count "$log") requests got 429"
		if [ "$how" = flag ]; then
			wall_groq_flag=$(echo "$m" | cut -d' ' -f1)
		else
			wall_groq_learned=$(echo "$m" | cut -d' ' -f1)
		fi
	done
	# The mock charges each request its prompt tokens plus --max-tokens.
	charged=$(grep -o '"prompt_tokens":[0-9]*' "$work/llm-groq-learned.out" |
		awk -F: -v max="$max" '{ t += $2 + max } END { print t }')
	bound=$(awk -v c="$charged" -v t="$tpm" 'BEGIN { printf "%.1f", (c - t) / t * 60 }')
	awk -v w="$wall_groq_learned" -v b="$bound" -v c="$charged" 'BEGIN {
		printf "token bound: (%d charged - 30000 in the bucket) / 30000 a minute = %.1f s; learned run %.1f s = %.2fx the bound (target <= 1.15: %s)\n", \
			c, b, w, w / b, (w / b <= 1.15 ? "met" : "NOT met")
	}'
	summary jl-llm "Groq-style, tokens bind, no flags ($n5 req)" "$wall_groq_learned s (bound $bound s)" \
		"--tpm $tpm" "$wall_groq_flag s" "$(ratio "$wall_groq_flag" "$wall_groq_learned")" "<= 1.15x the token bound"
	echo
}

speed=
for part in $BENCH_PARTS; do
	case $part in
	1) part1 ;;
	2 | 3) [ -n "$speed" ] || part23; speed=t ;;
	4) part4 ;;
	*) echo "bench: unknown part '$part'" >&2; exit 64 ;;
	esac
done
