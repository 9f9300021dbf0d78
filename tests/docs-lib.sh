# SPDX-License-Identifier: BSD-2-Clause
# Helpers for the tests that hold a man page to its tool: sourced after lib.sh.

# Option names in --help: long names ("model") and short letters ("m").
help_long_options() {
	sed -n 's/^ *\(-[a-zA-Z], \)\{0,1\}--\([a-z][a-z0-9-]*\).*/\2/p' "$1" | sort -u
}
help_short_options() {
	sed -n 's/^ *-\([a-zA-Z]\), --.*/\1/p' "$1" | sort -u
}

# The .It lines of the OPTIONS section of a man page.
man_option_items() {
	sed -n '/^\.Sh OPTIONS/,/^\.Sh /p' "$1" | grep '^\.It '
}

# Long names written as "Fl -name" or "Fl Fl name", and short "Fl x".
man_long_options() {
	man_option_items "$1" | grep -oE 'Fl (-|Fl )[a-z][a-z0-9-]*' |
		sed -E 's/^Fl (-|Fl )//' | sort -u
}
man_short_options() {
	man_option_items "$1" | grep -oE 'Fl [a-zA-Z]([ ,]|$)' |
		sed -E 's/^Fl ([a-zA-Z]).*/\1/' | sort -u
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
# short options as TOOL --help, and the whole page writes each long one as
# Fl -name.
man_matches_help() {
	mmh_page=$SRCDIR/man/$1.1
	"$1" --help >"$1.help" 2>"$1.help-err" &&
	test_must_be_empty "$1.help-err" &&
	test_grep "^usage: $1 " "$1.help" &&
	help_long_options "$1.help" >"$1.help-long" &&
	man_long_options "$mmh_page" >"$1.man-long" &&
	test_line_count -gt 5 "$1.help-long" &&
	test_cmp "$1.help-long" "$1.man-long" &&
	help_short_options "$1.help" >"$1.help-short" &&
	man_short_options "$mmh_page" >"$1.man-short" &&
	test_cmp "$1.help-short" "$1.man-short" &&
	while read -r name; do
		grep -qE "Fl (-|Fl )$name([^a-z0-9-]|\$)" "$mmh_page" ||
		{ echo "--$name missing from $mmh_page" >&4; return 1; }
	done <"$1.help-long"
}
