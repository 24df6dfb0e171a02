#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Judge one run of the test plan: results.py <run directory>

Reads console.log (the kernel console: KUnit's KTAP, and any splat) and
output.log (the plan: TAP of each suite between @@SUITE/@@END markers),
prints a line per suite and the closing line "N passed, N failed, N skipped",
and exits 1 if any test failed, a suite was cut short or exited non-zero,
the kernel printed a splat, or the VM did not reach the end of the plan.
"""
import os
import re
import sys

SPLATS = [
    (re.compile(r'\bBUG:'), 'BUG'),
    (re.compile(r'\bWARNING:'), 'WARNING'),
    (re.compile(r'\bOops\b'), 'Oops'),
    (re.compile(r'\bKASAN\b'), 'KASAN report'),
    (re.compile(r'\bUBSAN:'), 'UBSAN report'),
    (re.compile(r'possible (circular|recursive) locking|'
                r'inconsistent lock state|lock held when returning|'
                r'suspicious RCU usage|INFO: (trying|task|rcu)'),
     'lockdep/RCU report'),
    (re.compile(r'unreferenced object 0x'), 'kmemleak leak'),
    (re.compile(r'Call Trace'), 'Call Trace'),
    (re.compile(r'Kernel panic'), 'kernel panic'),
    (re.compile(r'general protection fault'), 'general protection fault'),
]

TIME_PREFIX = re.compile(r'^\[\s*\d+\.\d+\]\s?')
RESULT = re.compile(r'^(not ok|ok)\b\s*(\d+)?\s*-?\s*([^#]*?)\s*(#\s*(.*))?$')
PLAN = re.compile(r'^1\.\.(\d+)')


def read_lines(path):
    try:
        with open(path, errors='replace') as f:
            return [l.rstrip('\r\n').replace('\r', '') for l in f]
    except FileNotFoundError:
        return []


class Suite:
    def __init__(self, name):
        self.name = name
        self.passed = self.failed = self.skipped = 0
        self.planned = None
        self.problems = []
        self.failures = []

    def add(self, ok, name, directive):
        d = (directive or '').strip().upper()
        if d.startswith('SKIP'):
            self.skipped += 1
        elif ok or d.startswith('TODO'):
            self.passed += 1
        else:
            self.failed += 1
            self.failures.append(name)

    def total(self):
        return self.passed + self.failed + self.skipped


def parse_tap(name, lines):
    """Top-level TAP 13 as kselftest and our scripts print it."""
    s = Suite(name)
    for l in lines:
        m = PLAN.match(l)
        if m and s.planned is None:
            s.planned = int(m.group(1))
            continue
        m = RESULT.match(l)
        if m:
            s.add(m.group(1) == 'ok', m.group(3), m.group(5))
    if s.planned is None:
        s.problems.append('printed no TAP plan')
    elif s.total() != s.planned:
        s.problems.append('planned %d tests, reported %d'
                          % (s.planned, s.total()))
    return s


def parse_ktap(lines):
    """KUnit's nested KTAP on the console: a suite per top-level result,
    counting the leaf results (test cases and parameters) inside it."""
    suites = []
    stack = []      # per depth: list of (ok, name, directive, has_children)
    top_plan = None
    seen = False
    for raw in lines:
        l = TIME_PREFIX.sub('', raw)
        if not seen:
            if l.strip().startswith('KTAP version') or \
               l.strip().startswith('TAP version'):
                seen = True
            continue
        body = l.lstrip(' ')
        depth = (len(l) - len(body)) // 4
        m = PLAN.match(body)
        if m and depth == 0 and top_plan is None:
            top_plan = int(m.group(1))
            continue
        m = RESULT.match(body)
        if not m:
            continue
        ok, name, directive = m.group(1) == 'ok', m.group(3), m.group(5)
        while len(stack) <= depth + 1:
            stack.append(None)
        children = stack[depth + 1]
        stack[depth + 1] = None
        if depth == 0:
            s = Suite('kunit:' + name)
            if children:
                for leaf in children:
                    s.add(*leaf)
            else:
                s.add(ok, name, directive)
            if not ok and s.failed == 0 and not (directive or '').upper() \
                    .startswith('SKIP'):
                s.problems.append('suite failed')
            suites.append(s)
        else:
            leaves = stack[depth] or []
            if children:
                leaves.extend(children)
                skipped = (directive or '').upper().startswith('SKIP')
                if not ok and not skipped and all(c[0] for c in children):
                    leaves.append((False, name, directive))
            else:
                leaves.append((ok, name, directive))
            stack[depth] = leaves
    problems = []
    if seen and top_plan is not None and len(suites) != top_plan:
        problems.append('KUnit planned %d suites, reported %d'
                        % (top_plan, len(suites)))
    if not seen:
        problems.append('no KUnit output on the console')
    return suites, problems


def plan_sections(lines):
    """Split output.log into (name, lines, exit status or None)."""
    sections = []
    cur = None
    for l in lines:
        m = re.match(r'^@@SUITE (\S+)', l)
        if m:
            cur = [m.group(1), [], None]
            sections.append(cur)
            continue
        m = re.match(r'^@@END (\S+) (\d+)@@', l)
        if m and cur and cur[0] == m.group(1):
            cur[2] = int(m.group(2))
            cur = None
            continue
        if cur:
            cur[1].append(l)
    return sections


def find_splats(lines, where):
    found = []
    for i, raw in enumerate(lines):
        l = TIME_PREFIX.sub('', raw)
        for rx, what in SPLATS:
            if rx.search(l):
                found.append('%s at %s:%d: %s' % (what, where, i + 1,
                                                  l.strip()[:120]))
                break
    return found


def kmemleak_report(lines):
    """The leaks kmemleak listed after the plan, and whether it reported at
    all (None when the plan printed no kmemleak section)."""
    leaks, state = [], None
    for l in lines:
        if l.startswith('@@KMEMLEAK@@'):
            state = 'reported'
        elif l.startswith('@@KMEMLEAK-FAILED@@'):
            state = 'failed'
        elif l.startswith('@@KMEMLEAK-UNAVAILABLE@@'):
            state = 'unavailable'
        elif state == 'reported' and l.startswith('unreferenced object'):
            leaks.append(l)
    return leaks, state


def main():
    args = sys.argv[1:]
    require_kmemleak = '--require-kmemleak' in args
    args = [a for a in args if a != '--require-kmemleak']
    run = args[0]
    console = read_lines(os.path.join(run, 'console.log'))
    output = read_lines(os.path.join(run, 'output.log'))
    try:
        status = open(os.path.join(run, 'status')).read().strip()
    except FileNotFoundError:
        status = 'unknown'

    errors = []
    suites, kproblems = parse_ktap(console)
    errors += kproblems
    for name, body, rc in plan_sections(output):
        s = parse_tap(name, body)
        if rc is None:
            s.problems.append('did not finish')
        elif rc != 0 and s.failed == 0:
            s.problems.append('exited with status %d' % rc)
        suites.append(s)

    for s in suites:
        extra = ''.join('; ' + p for p in s.problems)
        print('%-32s %3d passed, %d failed, %d skipped%s'
              % (s.name, s.passed, s.failed, s.skipped, extra))
        for f in s.failures:
            print('    FAILED: %s' % f)
        errors += ['%s: %s' % (s.name, p) for p in s.problems]

    splats = find_splats(console, 'console.log')
    leaks, kmemleak = kmemleak_report(output)
    splats += ['kmemleak leak: ' + x for x in leaks]
    if require_kmemleak and kmemleak != 'reported' and \
            '@@PLAN-COMPLETE@@' in output:
        errors.append('kmemleak did not report (%s)' % (kmemleak or 'absent'))
    for x in splats[:20]:
        print('SPLAT: ' + x)
    if len(splats) > 20:
        print('SPLAT: ... %d more' % (len(splats) - 20))
    if splats:
        errors.append('%d kernel splat line(s) on the console' % len(splats))

    if status == 'timeout':
        errors.append('the VM timed out')
    elif status == 'crash':
        errors.append('the VM stopped before the end of the plan')
    elif '@@PLAN-COMPLETE@@' not in output:
        errors.append('the plan did not reach its end')
    if not any(s.total() for s in suites):
        errors.append('no test ran')
    if not any(s.name.startswith('kunit:iommufd') and s.total()
               for s in suites):
        errors.append('no iommufd KUnit suite ran')

    passed = sum(s.passed for s in suites)
    failed = sum(s.failed for s in suites)
    skipped = sum(s.skipped for s in suites)
    for e in errors:
        print('ERROR: ' + e)
    print('%d passed, %d failed, %d skipped' % (passed, failed, skipped))
    return 1 if failed or errors else 0


if __name__ == '__main__':
    sys.exit(main())
