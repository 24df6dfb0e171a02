#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The VM's edu devices are placed so that IOMMU groups can be tested:
# one alone in its slot, and two as functions 0 and 1 of one multifunction
# slot without ACS. VT-d must put the pair in one iommu_group and the single
# device in a group of its own; init must have bound all three to vfio-pci.
# Prints TAP.

. "$(dirname "$0")/tap.inc"
group_of() { basename "$(readlink /sys/bus/pci/devices/$1/iommu_group)"; }

edus=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat $d/vendor):$(cat $d/device)" = 0x1234:0x11e8 ] &&
		edus="$edus ${d##*/}"
done
echo "TAP version 13"
echo "1..8"
echo "# edu devices:$edus"

set -- $edus
[ $# -eq 3 ]; ok $? "three edu devices are present"

# Sort the devices by slot (domain:bus:device, without the function).
single=
pair=
for slot in $(for d in $edus; do echo "${d%.*}"; done | sort | uniq); do
	fns=$(for d in $edus; do [ "${d%.*}" = "$slot" ] && echo $d; done)
	case $(echo $fns | wc -w) in
	1) single=$fns ;;
	2) pair=$fns ;;
	esac
done
[ -n "$single" ] && [ -n "$pair" ]
ok $? "one slot holds a single edu, another two functions ($single / $(echo $pair))"

set -- $pair
ga=$(group_of "$1" 2>/dev/null)
gb=$(group_of "$2" 2>/dev/null)
gs=$(group_of "$single" 2>/dev/null)
[ -n "$ga" ] && [ -n "$gb" ] && [ -n "$gs" ]
ok $? "every edu has an iommu_group (pair: $ga $gb, single: $gs)"

[ -n "$ga" ] && [ "$ga" = "$gb" ]
ok $? "the two functions share one iommu_group"

[ -n "$gs" ] && [ "$gs" != "$ga" ]
ok $? "the single edu is not in the pair's group"

members() { ls /sys/kernel/iommu_groups/$1/devices 2>/dev/null | sort | tr '\n' ' '; }
[ "$(members "$gs")" = "$single " ]
ok $? "the single edu's group holds only it ($(members "$gs"))"

[ "$(members "$ga")" = "$(echo $pair | tr ' ' '\n' | sort | tr '\n' ' ')" ]
ok $? "the pair's group holds exactly the two functions ($(members "$ga"))"

bound=0
for d in $edus; do
	[ "$(basename "$(readlink /sys/bus/pci/devices/$d/driver)")" = vfio-pci ] ||
		bound=1
	[ -c /dev/vfio/$(group_of $d) ] || bound=1
done
ok $bound "all edu devices are bound to vfio-pci with a /dev/vfio group node"

exit $fail
