#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Make $TREE: Debian's 6.1 source, extracted once, with patches/series
# applied and this repository's files linked in.
#
# The tarball is extracted once into $PRISTINE, which is never modified.
# $TREE is a copy of it (mtimes kept, so build directories stay valid). When
# the series changes, the files the old series touched are put back from
# $PRISTINE and the new series is applied: only those files get new mtimes,
# so kbuild rebuilds only what depends on them.
source "$(dirname "$0")/lib.sh"

[ -f "$TARBALL" ] || die "$TARBALL is missing (run tools/deps.sh)"

# 1. pristine source, keyed by the package version
want=$(dpkg-query -W -f='${Version}' "$BASE_PKG")
if [ "$(cat "$CACHE/pristine/.stamp" 2>/dev/null)" != "$want" ]; then
	msg "extracting $TARBALL (once)"
	rm -rf "$CACHE/pristine" "$CACHE/pristine.tmp"
	mkdir -p "$CACHE/pristine.tmp"
	tar -xJf "$TARBALL" -C "$CACHE/pristine.tmp"
	[ -d "$CACHE/pristine.tmp/$BASE_PKG" ] || die "tarball has no $BASE_PKG/"
	echo "$want" >"$CACHE/pristine.tmp/.stamp"
	mv "$CACHE/pristine.tmp" "$CACHE/pristine"
fi

# 2. working tree, a copy of the pristine one
if [ "$(cat "$TREE/.iommufd-base" 2>/dev/null)" != "$want" ]; then
	msg "copying the pristine tree to $TREE"
	# Its files keep the tarball's mtimes, older than any object built
	# from a previous base: those build directories must go.
	rm -rf "$TREE" "$TREE.tmp" "$CACHE"/build-* "$CACHE"/lint-*
	cp -a "$PRISTINE" "$TREE.tmp"
	: >"$TREE.tmp/.iommufd-patched-files"
	echo "$want" >"$TREE.tmp/.iommufd-base"
	mv "$TREE.tmp" "$TREE"
fi

# 3. the patch series
series=$REPO/patches/series
mapfile -t patches < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$series")
sum=$( { cat "$series"; for p in "${patches[@]}"; do
	[ -f "$REPO/patches/$p" ] || die "patches/series names missing $p"
	cat "$REPO/patches/$p"; done; } | sha256sum | cut -d' ' -f1)
if [ "$(cat "$TREE/.iommufd-series" 2>/dev/null)" != "$sum" ]; then
	rm -f "$TREE/.iommufd-series"
	# Undo the previous series. The restored files get the current time
	# as mtime (no cp -p): they differ from what was last built.
	while read -r f; do
		[ -n "$f" ] || continue
		if [ -e "$PRISTINE/$f" ]; then
			cp "$PRISTINE/$f" "$TREE/$f"
		else
			rm -f "$TREE/$f"
		fi
	done <"$TREE/.iommufd-patched-files"
	: >"$TREE/.iommufd-patched-files"
	for p in "${patches[@]}"; do
		msg "applying patches/$p"
		# Record the files first, so a half-applied patch is undone too.
		sed -n 's|^diff --git a/\(.*\) b/\(.*\)$|\1\n\2|p' \
			"$REPO/patches/$p" | sort -u \
			>>"$TREE/.iommufd-patched-files"
		patch -d "$TREE" -p1 --batch --forward --fuzz=0 \
			--no-backup-if-mismatch -s <"$REPO/patches/$p" ||
			die "patches/$p does not apply to $BASE_PKG"
	done
	echo "$sum" >"$TREE/.iommufd-series"
fi

# 4. links to the repository, so kbuild sees every edit by its mtime.
# When the links move to another clone (CI, a second checkout), that clone's
# files may be older than the objects built from the previous one: touch
# them so kbuild rebuilds whatever uses them.
if [ "$(cat "$TREE/.iommufd-repo" 2>/dev/null)" != "$REPO" ]; then
	if [ -e "$TREE/.iommufd-repo" ]; then
		msg "tree now follows $REPO; marking its files as changed"
		find "$REPO" -path "$REPO/.git" -prune -o -type f -exec touch {} +
	fi
	echo "$REPO" >"$TREE/.iommufd-repo"
fi
link() {	# link <path in tree> <path in repo>
	if [ -e "$REPO/$2" ]; then
		mkdir -p "$(dirname "$TREE/$1")"
		local target=$REPO/$2
		ln -sfn "${target%/.}" "$TREE/$1"
	else
		rm -f "$TREE/$1"
	fi
}
link drivers/iommu/iommufd .
link include/linux/iommufd.h include/linux/iommufd.h
link include/uapi/linux/iommufd.h include/uapi/linux/iommufd.h
# VFIO's side of the binding (patches/ hooks it into drivers/vfio/Makefile)
link drivers/vfio/iommufd.c vfio/iommufd.c
link drivers/vfio/device_cdev.c vfio/device_cdev.c
# The selftests are linked file by file into a real directory, so that
# their "../kselftest_harness.h" and lib.mk's relative paths resolve in the
# tree, not in the repository.
st=tools/testing/selftests/iommu
[ -L "$TREE/$st" ] && rm -f "$TREE/$st"
mkdir -p "$TREE/$st"
find "$TREE/$st" -maxdepth 1 -type l ! -exec test -e {} \; -delete
for f in "$REPO/$st"/*; do
	link "$st/${f##*/}" "$st/${f##*/}"
done
link Documentation/userspace-api/iommufd.rst \
	Documentation/userspace-api/iommufd.rst
