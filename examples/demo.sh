#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# `make demo`: run examples/companies end to end, offline: the bundled mock
# (build/mockd) on a free loopback port stands in for the LLM provider and the
# local index of examples/companies/corpus.jsonl for web search.
set -eu
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRCDIR/build}
example=$SRCDIR/examples/companies
work=$(mktemp -d "${TMPDIR:-/tmp}/jlkit-demo.XXXXXX")
mock_pid=
cleanup() {
	if [ -n "$mock_pid" ]; then
		kill "$mock_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$BUILD/mockd" -q --port-file "$work/port" --key sk-mock-demo --latency 20-80 --lifetime 600 &
mock_pid=$!
while [ ! -s "$work/port" ]; do
	kill -0 "$mock_pid" 2>/dev/null || { echo "demo: mockd did not start" >&2; exit 1; }
	sleep 0.05
done
MOCK_URL=http://127.0.0.1:$(cat "$work/port")

echo "== jlkit demo: examples/companies, offline"
echo "   The answers come from the bundled mock at $MOCK_URL, not from a model:"
echo "   they are deterministic stand-ins, so the tiers below say nothing about the companies."
echo "   Search uses the local full-text index of examples/companies/corpus.jsonl."
echo
# No key of a real service may leak into the demo's environment, and the
# examples' make must not take the jobserver of a `make -j demo`.
unset MAKEFLAGS MFLAGS MAKELEVEL
unset TAVILY_API_KEY GROQ_API_KEY OPENAI_API_KEY ANTHROPIC_API_KEY MODEL JL_DB
make -s -C "$example" JL="$BUILD" MOCK_URL="$MOCK_URL" clean
make -s -C "$example" JL="$BUILD" MOCK_URL="$MOCK_URL" estimate
make -s -C "$example" JL="$BUILD" MOCK_URL="$MOCK_URL" run report
echo
"$BUILD/jl-report" -f md --limit 0 -g .llm.content.tier --title "Territory plan (mock answers)" \
	<"$example/results.jsonl"
echo
if command -v chromium >/dev/null 2>&1; then
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,1600 \
		--screenshot="$example/report.png" "file://$example/report.html" >/dev/null 2>&1 &&
		echo "screenshot: $example/report.png"
fi
echo "report:  $example/report.html"
echo "         $example/report.md"
echo "results: $example/results.jsonl (run database: $example/run.db)"
echo
echo "With real services: export GROQ_API_KEY (or OPENAI_API_KEY, ANTHROPIC_API_KEY) and,"
echo "for web search, TAVILY_API_KEY; then: cd examples/companies && make estimate run report"
