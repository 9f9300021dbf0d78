#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# One worker of examples/brands: records on stdin, results on stdout. Any
# number of workers may run at once: they share the run database $DB (the
# search and answer caches, the dedup registry, the ledger and its budget)
# and, through the limiter files, the rate limits --rpm.
set -eu
: "${JL:?}" "${DB:?}" "${MODEL:?}" "${RPM:?}" "${SEARCH_RPM:?}" "${BUDGET:?}"
"$JL/jl-dedup" --db "$DB" --key .brand |
	"$JL/jl-search" --quiet --db "$DB" ${SEARCH_URL:+--base-url "$SEARCH_URL"} --rpm "$SEARCH_RPM" \
		--budget "$BUDGET" --run "${RUN:-brands}" \
		--query '"\(.brand) \(.category) AI GPU"' --max-results 3 --max-chars 500 |
	"$JL/jl-llm" --quiet --db "$DB" -m "$MODEL" ${LLM_URL:+--base-url "$LLM_URL"} --rpm "$RPM" \
		--budget "$BUDGET" --run "${RUN:-brands}" \
		--json --max-tokens 200 --prompt-file classify.tmpl |
	"$JL/jl-cost" --quiet --db "$DB" --run "${RUN:-brands}" --budget "$BUDGET" |
	"$JL/jl-dedup" --quiet --db "$DB" --key .brand --record --store
