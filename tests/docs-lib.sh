# SPDX-License-Identifier: BSD-2-Clause
# Helpers for the tests that hold a man page to its tool: sourced after lib.sh.

# Option names in --help: long names ("model") and short letters ("m").
help_long_options() {
	sed -n 's/^ *\(-[a-zA-Z], \)\{0,1\}--\([a-z][a-z0-9-]*\).*/\2/p' "$1" | sort -u
}
help_short_options() {
	sed -n 's/^ *-\([a-zA-Z]\), --.*/\1/p' "$1" | sort -u
}

# man_section_items PAGE SECTION: the top-level .It lines of ".Sh SECTION".
man_section_items() {
	awk -v sec=".Sh $2" '
		/^\.Sh / { in_sec = $0 == sec; depth = 0; next }
		in_sec && /^\.Bl/ { depth++ }
		in_sec && /^\.El/ { depth-- }
		in_sec && depth == 1 && /^\.It / { print }
	' "$1"
}

# Long names written as "Fl -name" or "Fl Fl name", and short "Fl x", in
# the items of section ${2:-OPTIONS}.
man_long_options() {
	man_section_items "$1" "${2:-OPTIONS}" | grep -oE 'Fl (-|Fl )[a-z][a-z0-9-]*' |
		sed -E 's/^Fl (-|Fl )//' | sort -u
}
man_short_options() {
	man_section_items "$1" "${2:-OPTIONS}" | grep -oE 'Fl [a-zA-Z]([ ,]|$)' |
		sed -E 's/^Fl ([a-zA-Z]).*/\1/' | sort -u
}

# The options of --help FILE that show a default, as "NAME<tab>DEFAULT" lines:
# the "(default X)" at the end of an option's help, on its line or on the
# next one when the option's name is too long to share it.
help_defaults() {
	awk '
		/^  (-[a-zA-Z], |    )--[a-z]/ {
			name = $0
			sub(/^  (-[a-zA-Z], |    )--/, "", name)
			sub(/[^a-z0-9-].*/, "", name)
		}
		name != "" && /\(default .*\)$/ {
			d = $0
			sub(/.*\(default /, "", d)
			sub(/\)$/, "", d)
			print name "\t" d
			name = ""
		}
	' "$1"
}

# man_states_default PAGE SECTION NAME DEFAULT: the paragraph of --NAME in
# ".Sh SECTION" of PAGE (from its top-level .It to the next) has the line
# "The default is DEFAULT." -- how every jlkit man page states a default.
man_states_default() {
	awk -v sec=".Sh $2" -v name="$3" -v want="The default is $4." '
		/^\.Sh / { in_sec = $0 == sec; depth = 0; here = 0; next }
		!in_sec { next }
		/^\.Bl/ { depth++ }
		/^\.El/ && --depth == 0 { here = 0 }
		depth == 1 && /^\.It / { here = $0 ~ ("Fl (-|Fl )" name "([^a-z0-9-]|$)") }
		here && $0 == want { found = 1 }
		END { exit !found }
	' "$1"
}

# Write each .Bd -literal block of the EXAMPLES section of page $1 to
# ${2:-ex}NN.txt, with the roff escapes \e and \& undone. Prints the number
# of blocks.
extract_examples() {
	awk -v prefix="${2:-ex}" '
		/^\.Sh EXAMPLES/ { ex = 1; next }
		/^\.Sh / { ex = 0 }
		ex && /^\.Bd -literal/ { n++; blk = 1; f = sprintf("%s%02d.txt", prefix, n); next }
		blk && /^\.Ed/ { blk = 0; close(f); next }
		blk { gsub(/\\&/, ""); gsub(/\\e/, "\\"); print > f }
		END { print n + 0 }
	' "$1"
}

# man_matches_help TOOL: the OPTIONS of man/TOOL.1 name the same long and
# short options as TOOL --help, the whole page writes each long one as
# Fl -name, and the paragraph of each option whose --help shows "(default
# X)" says "The default is X.". A network tool's shared options (those of
# NETWORK OPTIONS in jlkit(7), which describes them once) are held to that
# section instead, and the tool's page must point to it.
man_matches_help() {
	mmh_page=$SRCDIR/man/$1.1
	mmh_shared=$SRCDIR/man/jlkit.7
	"$1" --help >"$1.help" 2>"$1.help-err" &&
	test_must_be_empty "$1.help-err" &&
	test_grep "^usage: $1 " "$1.help" &&
	help_long_options "$1.help" >"$1.help-long" &&
	help_short_options "$1.help" >"$1.help-short" &&
	man_long_options "$mmh_shared" "NETWORK OPTIONS" >"$1.shared-long" &&
	man_short_options "$mmh_shared" "NETWORK OPTIONS" >"$1.shared-short" &&
	test_line_count -eq 21 "$1.shared-long" &&
	if comm -23 "$1.shared-long" "$1.help-long" | grep -q .; then
		: >"$1.shared-long" && : >"$1.shared-short" # not a network tool
	else
		test_grep "NETWORK OPTIONS" "$mmh_page"
	fi &&
	comm -23 "$1.help-long" "$1.shared-long" >"$1.own-long" &&
	comm -23 "$1.help-short" "$1.shared-short" >"$1.own-short" &&
	man_long_options "$mmh_page" >"$1.man-long" &&
	test_line_count -gt 5 "$1.own-long" &&
	test_cmp "$1.own-long" "$1.man-long" &&
	man_short_options "$mmh_page" >"$1.man-short" &&
	test_cmp "$1.own-short" "$1.man-short" &&
	while read -r name; do
		grep -qE "Fl (-|Fl )$name([^a-z0-9-]|\$)" "$mmh_page" ||
		{ echo "--$name missing from $mmh_page" >&4; return 1; }
	done <"$1.own-long" &&
	help_defaults "$1.help" >"$1.help-defaults" &&
	test_line_count -gt 0 "$1.help-defaults" &&
	while IFS='	' read -r name default; do
		if grep -qx -- "$name" "$1.shared-long"; then
			mmh_where=$mmh_shared mmh_section="NETWORK OPTIONS"
		else
			mmh_where=$mmh_page mmh_section=OPTIONS
		fi
		man_states_default "$mmh_where" "$mmh_section" "$name" "$default" ||
		{ echo "--$name: no \"The default is $default.\" in its $mmh_section paragraph of $mmh_where" >&4; return 1; }
	done <"$1.help-defaults"
}
