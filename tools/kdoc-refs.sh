#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Check that every ".. kernel-doc::" directive of our rst files renders what
# it asks for; run by tools/lint.sh, or alone:
#
#   tools/kdoc-refs.sh [file.rst...]   (default: every rst file of the repository)
#
# A directive's path is relative to the top of the kernel tree. It is read
# where tools/prepare-tree.sh links it from: drivers/iommu/iommufd/X is X
# here, drivers/vfio/X is vfio/X, include/... and the iommu selftests are
# this repository's file of that name when there is one; the rest come
# from the prepared 6.1 tree ($TREE, with patches/series applied, e.g.
# include/uapi/linux/vfio.h).
#
# Each name of :identifiers: or :functions: must have a kernel-doc comment
# in that file, a :doc: title must have a "DOC:" section, and :export:,
# :internal: or a directive without options must find a file with
# something to render. The kernel's own scripts/kernel-doc decides, run
# the way Documentation/sphinx/kerneldoc.py runs it for the HTML build.
# Prints every broken reference and exits 1 if there is any.
source "$(dirname "$0")/lib.sh"

KDOC=$TREE/scripts/kernel-doc
[ -x "$KDOC" ] || die "$KDOC is missing (run tools/prepare-tree.sh)"

if [ $# -gt 0 ]; then
	rsts=("$@")
else
	list=$(cd "$REPO" && git ls-files -co --exclude-standard -- '*.rst')
	rsts=()
	if [ -n "$list" ]; then
		mapfile -t rsts <<<"$list"
		rsts=("${rsts[@]/#/$REPO/}")
	fi
fi

# The file a tree path is read from.
source_of() {
	case "$1" in
	drivers/iommu/iommufd/*) echo "$REPO/${1#drivers/iommu/iommufd/}" ;;
	drivers/vfio/*)
		if [ -e "$REPO/vfio/${1#drivers/vfio/}" ]; then
			echo "$REPO/vfio/${1#drivers/vfio/}"
		else
			echo "$TREE/$1"
		fi ;;
	include/*|tools/testing/selftests/iommu/*)
		if [ -e "$REPO/$1" ]; then
			echo "$REPO/$1"
		else
			echo "$TREE/$1"
		fi ;;
	*) echo "$TREE/$1" ;;
	esac
}

# One line per directive: "file:line<TAB>path<TAB>mode<TAB>argument", the
# mode picked in kerneldoc.py's order (export, internal, doc, identifiers
# or its alias functions, else all). An option ends at a blank line, at a
# line indented no deeper than the directive, or at the next ":option:";
# deeper lines in between continue its value.
directives() {
	awk '
	function flush(  mode, arg) {
		if (!indir)
			return
		if ("export" in opt) {
			mode = "export"; arg = opt["export"]
		} else if ("internal" in opt) {
			mode = "internal"; arg = opt["internal"]
		} else if ("doc" in opt) {
			mode = "doc"; arg = opt["doc"]
		} else if ("identifiers" in opt && opt["identifiers"] ~ /[^ ]/) {
			mode = "identifiers"; arg = opt["identifiers"]
		} else {
			mode = "all"; arg = ""
		}
		gsub(/^ +| +$/, "", arg)
		gsub(/ +/, " ", arg)
		printf "%s:%d\t%s\t%s\t%s\n", file, line, path, mode, arg
		indir = 0
	}
	function indent(s) {
		match(s, /^ */)
		return RLENGTH
	}
	FNR == 1 { flush() }
	{ gsub(/\t/, "        ") }
	indir && (/^ *$/ || indent($0) <= depth) { flush() }
	indir {
		if (match($0, /^ *:[a-z-]+:/)) {
			s = substr($0, RSTART, RLENGTH)
			sub(/^ *:/, "", s)
			sub(/:$/, "", s)
			cur = (s == "functions") ? "identifiers" : s
			opt[cur] = opt[cur] " " substr($0, RSTART + RLENGTH)
		} else if (cur != "") {
			opt[cur] = opt[cur] " " $0
		}
		next
	}
	/^ *\.\. +kernel-doc:: *[^ ]/ {
		indir = 1
		file = FILENAME
		line = FNR
		depth = indent($0)
		path = $0
		sub(/^ *\.\. +kernel-doc:: */, "", path)
		sub(/ .*/, "", path)
		cur = ""
		split("", opt)
	}
	END { flush() }
	' "$@"
}

# What kernel-doc renders of file $1 with the options that follow (nothing
# when it finds nothing). The Sphinx version only quiets its warning.
render() {
	local src=$1

	shift
	"$KDOC" -rst -sphinx-version 3.4.3 "$@" "$src" 2>/dev/null |
		grep -v '^[[:space:]]*$' || true
}

bad=0
checked=0
report() {
	printf '%s: %s\n' "$1" "$2" >&2
	bad=$((bad + 1))
}
[ ${#rsts[@]} -eq 0 ] && { msg "kernel-doc directives: no rst files"; exit 0; }
for r in "${rsts[@]}"; do
	[ -f "$r" ] || die "$r: no such file"
done
while IFS=$'\t' read -r loc path mode arg; do
	loc=${loc#"$REPO"/}
	checked=$((checked + 1))
	src=$(source_of "$path")
	if [ ! -f "$src" ]; then
		report "$loc" "kernel-doc:: $path: no such file ($src)"
		continue
	fi
	case "$mode" in
	identifiers)
		for name in $arg; do
			[ -n "$(render "$src" -function "$name")" ] ||
				report "$loc" "$path has no kernel-doc comment for '$name'"
		done ;;
	doc)
		# kerneldoc.py passes the whole title as one -function
		[ -n "$(render "$src" -function "$arg")" ] ||
			report "$loc" "$path has no 'DOC: $arg' section" ;;
	export|internal)
		# with file patterns, the symbols are those other files
		# export: the file existing is all that is checked then.
		# export; 6.1's kernel-doc knows EXPORT_SYMBOL(_GPL) only,
		# not the _NS variants
		[ -n "$arg" ] || [ -n "$(render "$src" "-$mode")" ] ||
			report "$loc" "$path: :$mode: renders nothing" ;;
	all)
		[ -n "$(render "$src")" ] ||
			report "$loc" "$path has no kernel-doc comments" ;;
	esac
done < <(directives "${rsts[@]}")

if [ $bad -gt 0 ]; then
	printf 'error: %d broken kernel-doc reference(s) in %d directive(s)\n' \
		"$bad" "$checked" >&2
	exit 1
fi
msg "kernel-doc directives: $checked in ${#rsts[@]} rst file(s) all found"
