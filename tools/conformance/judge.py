#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Judge a make conformance run: judge.py <run directory> <expected-failures>

Reads output.log (the TAP of each mainline test binary, between the
"@@CONF <name>@@" and "@@CONF-END <name> <status> <seconds>@@" lines that
tools/conformance/guest.sh prints) and console.log (kernel splats). Prints
one line per fixture (FIXTURE or FIXTURE.VARIANT) with its counts, then each
failure with the assertion messages the test printed, then the closing line
"N passed, N failed, N skipped".

The expected-failures file has one test name per line (the full kselftest
name, FIXTURE[.VARIANT].TEST; shell wildcards allowed) and a "# reason"
after it. A reason starting with "divergence:" marks a known divergence
from mainline that is still to be fixed: tolerated like the others, but
listed apart. A line "splat: <regex>  # reason" tolerates the kernel
reports (a WARNING to its "end trace") whose first line matches.

Exit status 1 when a test failed that is not on the list, a binary did not
finish or printed fewer results than it planned, or the kernel printed a
splat; 0 otherwise. Listed tests that pass are reported as XPASS.
"""
import fnmatch
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '..'))
from results import find_splats, read_lines  # noqa: E402

RESULT = re.compile(r'^(not ok|ok) (\d+) (\S+)(?:\s+#\s*(\S+)?\s*(.*))?$')
PLAN = re.compile(r'^1\.\.(\d+)')
RUN = re.compile(r'^#\s+RUN\s+(\S+) \.\.\.$')
BEGIN = re.compile(r'^@@CONF (\S+)@@$')
END = re.compile(r'^@@CONF-END (\S+) (\d+) ([\d.]+)@@$')


def load_expected(path):
    """[(pattern, reason, is_divergence)] in file order, and the known
    splats: [(regex, reason)] from "splat: <regex>  # reason" lines."""
    out, splats = [], []
    for raw in read_lines(path):
        line = raw.strip()
        if not line or line.startswith('#'):
            continue
        if line.startswith('splat:'):
            rx, _, reason = line[len('splat:'):].partition('#')
            splats.append((re.compile(rx.strip()), reason.strip()))
            continue
        name, _, reason = line.partition('#')
        name, reason = name.strip(), reason.strip()
        if not name:
            continue
        out.append((name, reason,
                    reason.lower().startswith('divergence:')))
    return out, splats


def drop_known_splats(console, known):
    """The console without the reports (from the WARNING/BUG line to its
    "end trace") whose first line matches a known splat; and how many
    were dropped per reason."""
    kept, dropped, skipping = [], {}, False
    for l in console:
        if skipping:
            if '---[ end trace' in l:
                skipping = False
            continue
        for rx, reason in known:
            if rx.search(l):
                dropped[reason] = dropped.get(reason, 0) + 1
                skipping = True
                break
        else:
            kept.append(l)
    return kept, dropped


class Binary:
    def __init__(self, name):
        self.name = name
        self.planned = None
        self.rc = None
        self.seconds = None
        self.results = []       # (test, kind, directive text)
        self.logs = {}          # test -> lines printed while it ran


def parse(lines):
    binaries = []
    cur = None
    running = None
    for l in lines:
        m = BEGIN.match(l)
        if m:
            cur = Binary(m.group(1))
            binaries.append(cur)
            running = None
            continue
        if cur is None:
            continue
        m = END.match(l)
        if m and m.group(1) == cur.name:
            cur.rc, cur.seconds = int(m.group(2)), float(m.group(3))
            cur = None
            continue
        m = PLAN.match(l)
        if m and cur.planned is None:
            cur.planned = int(m.group(1))
            continue
        m = RUN.match(l)
        if m:
            running = m.group(1)
            cur.logs[running] = []
            continue
        m = RESULT.match(l)
        if m:
            ok, test = m.group(1) == 'ok', m.group(3)
            directive = (m.group(4) or '').upper()
            if directive == 'SKIP':
                kind = 'skip'
            elif directive == 'XFAIL':
                kind = 'pass'   # the harness's own expected failure
            elif ok:
                kind = 'pass'
            else:
                kind = 'fail'
            cur.results.append((test, kind, (m.group(5) or '').strip()))
            running = None
            continue
        if running is not None:
            cur.logs[running].append(l)
    return binaries


def fixture_of(test):
    return test.rsplit('.', 1)[0]


def main():
    run, expected_path = sys.argv[1], sys.argv[2]
    output = read_lines(os.path.join(run, 'output.log'))
    console = read_lines(os.path.join(run, 'console.log'))
    expected, known_splats = load_expected(expected_path)
    binaries = parse(output)

    errors = []
    counts = {}         # fixture -> [passed, failed, skipped]
    order = []
    failures = []       # (binary, test, logs)
    passes = set()
    seen = set()
    for b in binaries:
        for test, kind, _ in b.results:
            seen.add(test)
            f = fixture_of(test)
            if f not in counts:
                counts[f] = [0, 0, 0]
                order.append(f)
            counts[f][{'pass': 0, 'fail': 1, 'skip': 2}[kind]] += 1
            if kind == 'fail':
                failures.append((b, test, b.logs.get(test, [])))
            elif kind == 'pass':
                passes.add(test)
        if b.rc is None:
            errors.append('%s did not finish (crash or VM timeout)' % b.name)
        if b.planned is None:
            errors.append('%s printed no TAP plan' % b.name)
        elif b.planned != len(b.results):
            errors.append('%s planned %d tests, reported %d'
                          % (b.name, b.planned, len(b.results)))

    for f in order:
        p, x, s = counts[f]
        print('%-46s %3d passed, %d failed, %d skipped' % (f, p, x, s))

    def match(test):
        for pat, reason, div in expected:
            if fnmatch.fnmatchcase(test, pat):
                return reason, div
        return None

    unexpected, known, diverging = [], [], []
    for b, test, logs in failures:
        m = match(test)
        timed_out = any('terminated by timeout' in l for l in logs)
        entry = (test, logs, m[0] if m else None, timed_out)
        if m is None:
            unexpected.append(entry)
        elif m[1]:
            diverging.append(entry)
        else:
            known.append(entry)

    def show(title, entries, with_logs):
        if not entries:
            return
        print('%s (%d):' % (title, len(entries)))
        for test, logs, reason, timed_out in entries:
            note = ' [TIMEOUT]' if timed_out else ''
            print('    %s%s%s' % (test, note,
                                  '  # ' + reason if reason else ''))
            if with_logs:
                for l in logs:
                    if re.match(r'^#\s+(\S+\.c:\d+:|.*timeout|.*Expected)',
                                l):
                        print('        ' + l.lstrip('# ').rstrip())

    show('UNEXPECTED FAILURES', unexpected, True)
    show('known divergences from mainline (to fix)', diverging, True)
    show('expected failures (features we lack)', known, False)
    xpass = sorted(t for t in passes if match(t))
    if xpass:
        print('XPASS: listed as expected to fail, but passed (%d):'
              % len(xpass))
        for t in xpass:
            print('    ' + t)
    stale = [pat for pat, _, _ in expected
             if not any(fnmatch.fnmatchcase(t, pat) for t in seen)]
    if stale and binaries and all(b.rc is not None for b in binaries):
        print('note: %d expected-failure entries match no test that ran: %s'
              % (len(stale), ', '.join(stale)))
    timeouts = [t for t, logs, _, to in unexpected + diverging + known if to]
    if timeouts:
        print('killed by the harness timeout: ' + ', '.join(timeouts))
    for b in binaries:
        if b.seconds is not None:
            print('%s: %d results in %.1f s (guest clock), exit status %d'
                  % (b.name, len(b.results), b.seconds, b.rc))

    console, dropped = drop_known_splats(console, known_splats)
    for reason, n in dropped.items():
        print('known kernel splat, %d time(s): %s' % (n, reason))
    splats = find_splats(console, 'console.log')
    for x in splats[:20]:
        print('SPLAT: ' + x)
    if len(splats) > 20:
        print('SPLAT: ... %d more' % (len(splats) - 20))
    if splats:
        errors.append('%d kernel splat line(s) on the console' % len(splats))
    if not binaries:
        errors.append('no test binary ran')
    if unexpected:
        errors.append('%d failure(s) not on the expected list'
                      % len(unexpected))

    total = [sum(c[i] for c in counts.values()) for i in range(3)]
    for e in errors:
        print('ERROR: ' + e)
    print('all results: %d passed, %d failed, %d skipped' % tuple(total))
    # The closing line counts as failed only what is not on the expected
    # list, or what kept the run from being judged at all.
    failed = len(unexpected) + (1 if errors and not unexpected else 0)
    print('expected to fail: %d (%d of them divergences to fix)'
          % (len(known) + len(diverging), len(diverging)))
    print('conformance: %d passed, %d failed, %d skipped'
          % (total[0], failed, total[2]))
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
