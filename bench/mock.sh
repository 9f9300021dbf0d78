#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Benchmark the mock server (issue 3): how many small requests a second
# build/mockd answers with latency 0, measured by a load generator in the
# same run: wrk (Debian package wrk) when installed, else curl --parallel.
# Target: at least 20,000 requests/s on a 2-core machine. Not a timed test.
# BENCH_SECONDS sets the duration (default 5), BENCH_CONNECTIONS the
# connections (default 64).
set -eu
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRCDIR/build}
BENCH_SECONDS=${BENCH_SECONDS:-5}
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-64}
work=${BENCH_DIR:-$BUILD/bench}
mkdir -p "$work"
# shellcheck source=bench/lib.sh
. "$SRCDIR/bench/lib.sh"
rm -f "$work/mock.port"

"$BUILD/mockd" -q --port-file "$work/mock.port" --key bench-key \
	--lifetime $((BENCH_SECONDS * 4 + 30)) &
mock_pid=$!
trap 'kill $mock_pid 2>/dev/null' EXIT
while [ ! -s "$work/mock.port" ]; do
	sleep 0.05
done
url=http://127.0.0.1:$(cat "$work/mock.port")
body='{"model":"mock-model","messages":[{"role":"user","content":"Company: Acme Corp"}]}'

report() {
	awk -v route="$1" -v n="$2" -v t="$3" 'BEGIN {
		r = n / t
		printf "%-34s %9.0f requests/s (target >= 20000: %s)\n", route, r, (r >= 20000 ? "met" : "NOT met")
	}'
	summary mockd "$1, latency 0" "$(awk -v n="$2" -v t="$3" 'BEGIN { printf "%.0f", n / t }') req/s" \
		- - - ">= 20000 req/s"
}

if command -v wrk >/dev/null; then
	cat >"$work/chat.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer bench-key"
LUA
	echo "wrk, 1 thread, $BENCH_CONNECTIONS connections, ${BENCH_SECONDS}s, keep-alive, latency 0:"
	for route in /v1/chat/completions /v1/models; do
		if [ "$route" = /v1/models ]; then
			script=
			set -- -H "Authorization: Bearer bench-key"
		else
			script=$work/chat.lua
			set -- -s "$script"
		fi
		out=$(wrk -t1 -c"$BENCH_CONNECTIONS" -d"${BENCH_SECONDS}s" "$@" "$url$route")
		n=$(printf '%s\n' "$out" | awk '/requests in/ { print $1 }')
		t=$(printf '%s\n' "$out" | awk '/requests in/ { sub("s,", "", $4); print $4 }')
		printf '%s\n' "$out" | grep -E 'Latency|Non-2xx' || true
		if [ -n "$script" ]; then
			report "POST $route" "$n" "$t"
		else
			report "GET $route" "$n" "$t"
		fi
	done
else
	echo "wrk not installed (apt-get install wrk): curl --parallel instead, which is slower than the mock"
	n=2000
	start=$(date +%s.%N)
	seq "$n" | sed "s|.*|url = \"$url/v1/models\"|" >"$work/urls.txt"
	curl -s --parallel --parallel-max "$BENCH_CONNECTIONS" -H "Authorization: Bearer bench-key" \
		-K "$work/urls.txt" -o /dev/null
	end=$(date +%s.%N)
	report "GET /v1/models" "$n" "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')"
fi
curl -s "$url/_stats"
echo
