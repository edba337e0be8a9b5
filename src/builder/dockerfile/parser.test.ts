import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile, dumpAst, chompHeredocContent, DockerfileParseError } from './index.ts';
import { InvalidArgumentError } from '../../lib/index.ts';

const dump = (df: string): string => dumpAst(parseDockerfile(df, { validate: false }));

test('shell vs exec form, keywords in any case, flags kept apart from the arguments', () => {
  const df = [
    'from   debian:bookworm-slim AS base',
    'Run apt-get update && \\',
    '    apt-get install -y curl',
    'RUN ["/bin/sh", "-c", "echo hi"]',
    'RUN [ "not json',            // invalid JSON: shell form
    'CMD ["a", \'b\']',            // single quotes are not JSON: shell form
    'ENTRYPOINT []',
    'COPY --from=base --chown=1:1 --chmod=0755 --link a b /dst/',
    'COPY ["with space", "/dst dir/"]',
    'ADD -- --weird /x',
    'RUN --mount=type=cache,target=/root/.cache --network=none make',
    'FROM --platform=linux/amd64 scratch',
    'SHELL ["/bin/bash", "-o", "pipefail", "-c"]',
    'VOLUME /a /b',
    'VOLUME ["/c"]',
    'EXPOSE 80/tcp 443',
    'WORKDIR /app dir',
    'USER  nobody:nogroup ',
    'STOPSIGNAL SIGKILL',
    'MAINTAINER Jane Doe <jane@example.com>',
  ].join('\n');
  assert.equal(dump(df), [
    '(from "debian:bookworm-slim" "AS" "base")',
    '(run "apt-get update &&     apt-get install -y curl")',
    '(run "/bin/sh" "-c" "echo hi")',
    '(run "[ \\"not json")',
    '(cmd "[\\"a\\", \'b\']")',
    '(entrypoint)',
    '(copy ["--from=base" "--chown=1:1" "--chmod=0755" "--link"] "a" "b" "/dst/")',
    '(copy "with space" "/dst dir/")',
    '(add "--weird" "/x")',
    '(run ["--mount=type=cache,target=/root/.cache" "--network=none"] "make")',
    '(from ["--platform=linux/amd64"] "scratch")',
    '(shell "/bin/bash" "-o" "pipefail" "-c")',
    '(volume "/a" "/b")',
    '(volume "/c")',
    '(expose "80/tcp" "443")',
    '(workdir "/app dir")',
    '(user "nobody:nogroup")',
    '(stopsignal "SIGKILL")',
    '(maintainer "Jane Doe <jane@example.com>")',
    '',
  ].join('\n'));
  const r = parseDockerfile(df);
  assert.equal(r.children[2]?.json, true);
  assert.equal(r.children[1]?.json, false);
  assert.equal(r.children[0]?.value, 'from');
});

test('ENV and LABEL: several pairs with quotes kept for expansion, and the legacy two-part form', () => {
  const df = [
    'FROM x',
    'ENV A=1 B="two words" C=three\\ words D=',
    'ENV LEGACY value with  spaces',
    "LABEL org.opencontainers.image.title='t' \"quoted key\"=v",
    'ARG VERSION=1.0 NOVALUE',
    'ARG "Q=a b"',
  ].join('\n');
  assert.equal(dump(df), [
    '(from "x")',
    '(env "A" "1" "=" "B" "\\"two words\\"" "=" "C" "three\\\\ words" "=" "D" "" "=")',
    '(env "LEGACY" "value with  spaces" "")',
    '(label "org.opencontainers.image.title" "\'t\'" "=" "\\"quoted key\\"" "v" "=")',
    '(arg "VERSION=1.0" "NOVALUE")',
    '(arg "\\"Q=a b\\"")',
    '',
  ].join('\n'));
});

test('ONBUILD wraps an instruction; HEALTHCHECK keeps its type word', () => {
  const df = [
    'FROM x',
    'ONBUILD RUN echo "built from child"',
    'onbuild copy --chown=1 . /src',
    'ONBUILD ADD ["a", "b"]',
    'HEALTHCHECK NONE',
    'HEALTHCHECK --interval=5s --retries=3 CMD curl -f http://localhost/ || exit 1',
    'HEALTHCHECK CMD ["/bin/check", "--quiet"]',
  ].join('\n');
  assert.equal(dump(df), [
    '(from "x")',
    '(onbuild (run "echo \\"built from child\\""))',
    '(onbuild (copy ["--chown=1"] "." "/src"))',
    '(onbuild (add "a" "b"))',
    '(healthcheck "NONE")',
    '(healthcheck ["--interval=5s" "--retries=3"] "CMD" "curl -f http://localhost/ || exit 1")',
    '(healthcheck "CMD" "/bin/check" "--quiet")',
    '',
  ].join('\n'));
  const r = parseDockerfile(df);
  assert.equal(r.children[1]?.sub?.value, 'RUN');
  // The exec-form flag comes from the command part and is reported on the HEALTHCHECK node.
  assert.equal(r.children[6]?.json, true);
  assert.equal(r.children[5]?.json, false);
});

test('directives, comments and empty lines inside continuations, line numbers', () => {
  const df = [
    '# syntax=docker/dockerfile:1',  // 1
    '# escape=`',                    // 2
    '',                              // 3
    '# a comment',                   // 4
    'FROM windows `',                // 5
    '  # comment inside',            // 6
    '',                              // 7
    '  AS build',                    // 8
    'RUN dir c:\\',                  // 9: a backslash is just a character now
    '  # escape=\\ is no directive here', // 10
    'COPY a b',                      // 11
  ].join('\r\n');
  const r = parseDockerfile(df);
  assert.deepEqual(r.directives, [
    { name: 'syntax', value: 'docker/dockerfile:1', line: 1 },
    { name: 'escape', value: '`', line: 2 },
  ]);
  assert.equal(r.escapeToken, '`');
  assert.equal(dumpAst(r), '(from "windows" "AS" "build")\n(run "dir c:\\\\")\n(copy "a" "b")\n');
  assert.deepEqual(r.children.map((n) => [n.startLine, n.endLine]), [[5, 8], [9, 9], [11, 11]]);
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0]?.short ?? '', /^Empty continuation line found in: FROM windows/);
});

test('a directive after another line is a plain comment; a continuation at EOF still ends the instruction', () => {
  const r = parseDockerfile('FROM x\n# escape=`\nRUN a \\\n');
  assert.deepEqual(r.directives, []);
  assert.equal(r.escapeToken, '\\');
  assert.equal(dumpAst(r), '(from "x")\n(run "a")\n');
  // A leading BOM and lines starting with blanks are fine.
  assert.equal(dump('\uFEFF  FROM x\n\t\tRUN y'), '(from "x")\n(run "y")\n');
});

test('heredocs: body lines, quoted markers, <<- and several per line', () => {
  const df = [
    'FROM x',                        // 1
    'RUN <<EOF',                     // 2
    'echo $HOME',
    'EOF',                           // 4
    'COPY <<-"END" /etc/conf',       // 5
    '\tliteral $X',
    '\tEND',                         // 7
    'RUN <<A cat > /a && cat <<B > /b',  // 8
    'one',
    'A',
    'two',
    'B',                             // 12
    'RUN ["echo", "<<NOT"]',         // 13: exec form never has heredocs
    'ONBUILD RUN <<X',               // 14
    'x',
    'X',                             // 16
  ].join('\n');
  const r = parseDockerfile(df);
  assert.equal(dumpAst(r), [
    '(from "x")', '(run "<<EOF")', '(copy "<<-\\"END\\"" "/etc/conf")', '(run "<<A cat > /a && cat <<B > /b")',
    '(run "echo" "<<NOT")', '(onbuild (run "<<X"))', '',
  ].join('\n'));
  const [, run, copy, two, exec, onb] = r.children;
  assert.deepEqual(run?.heredocs, [{ name: 'EOF', fileDescriptor: 0, expand: true, chomp: false, content: 'echo $HOME\n' }]);
  assert.deepEqual(copy?.heredocs, [{ name: 'END', fileDescriptor: 0, expand: false, chomp: true, content: '\tliteral $X\n' }]);
  assert.equal(chompHeredocContent(copy?.heredocs[0]?.content ?? ''), 'literal $X\n');
  assert.deepEqual(two?.heredocs.map((h) => [h.name, h.content]), [['A', 'one\n'], ['B', 'two\n']]);
  assert.deepEqual(exec?.heredocs, []);
  assert.deepEqual(onb?.sub?.heredocs.map((h) => h.content), ['x\n']);
  assert.deepEqual(r.children.map((n) => [n.startLine, n.endLine]), [[1, 1], [2, 4], [5, 7], [8, 12], [13, 13], [14, 16]]);
  assert.throws(() => parseDockerfile('FROM x\nRUN <<EOF\necho\n'), { message: 'failed to parse Dockerfile: unterminated heredoc', line: 2 });
});

test('dump quotes strings as Go does', () => {
  assert.equal(dump('CMD ["tab\\there", "\\u0000", "é☃", "\\u00a0", "\\\\"]'),
    '(cmd "tab\\there" "\\x00" "é☃" "\\u00a0" "\\\\")\n');
});

test('errors carry Docker\'s text and the line', () => {
  const cases: [string, string, number][] = [
    ['', 'the Dockerfile (Dockerfile) cannot be empty', 0],
    ['# only\n\n# comments\n', 'failed to parse Dockerfile: file with no instructions', 3],
    ['FROM x\nENV FOO\n', 'failed to parse Dockerfile: ENV must have two arguments', 2],
    ['FROM x\n\nRUNN echo\n', 'dockerfile parse error line 3: unknown instruction: RUNN', 3],
    ['FROM x\nrunn echo\n', 'dockerfile parse error line 2: unknown instruction: RUNN', 2],
    ['FROM x\nENV =x\n', 'dockerfile parse error line 2: ENV names can not be blank', 2],
    ['FROM x\nENV\n', 'dockerfile parse error line 2: ENV requires at least one argument', 2],
    ['FROM x\nENV a=1 b\n', 'failed to parse Dockerfile: Syntax error - can\'t find = in "b". Must be of the form: name=value', 2],
    ['FROM x\nCMD ["a", ["b"]]\n', 'failed to parse Dockerfile: when using JSON array syntax, arrays must be comprised of strings only', 2],
    ['FROM x\nCMD [1]\n', 'failed to parse Dockerfile: when using JSON array syntax, arrays must be comprised of strings only', 2],
    ['FROM a b\n', 'dockerfile parse error line 1: FROM requires either one or three arguments', 1],
    ['FROM x\nCOPY a\n', 'dockerfile parse error line 2: COPY requires at least two arguments, but only one was provided. Destination could not be determined', 2],
    ['FROM x\nONBUILD ONBUILD RUN a\n', 'dockerfile parse error line 2: Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed', 2],
    ['FROM x\nONBUILD FROM y\n', 'dockerfile parse error line 2: FROM isn\'t allowed as an ONBUILD trigger', 2],
    ['FROM x\nHEALTHCHECK NONE x\n', 'dockerfile parse error line 2: HEALTHCHECK NONE takes no arguments', 2],
    ['FROM x\nHEALTHCHECK CMD\n', 'dockerfile parse error line 2: Missing command after HEALTHCHECK CMD', 2],
    ['FROM x\nHEALTHCHECK PING x\n', 'dockerfile parse error line 2: Unknown type "PING" in HEALTHCHECK (try CMD)', 2],
    ['# escape=x\nFROM x\n', "failed to parse Dockerfile: invalid escape token 'x' does not match ` or \\", 1],
    ['# escape=`\n# escape=\\\nFROM x\n', 'failed to parse Dockerfile: only one escape parser directive can be used', 2],
    [`FROM x\nLABEL a=${'é'.repeat(32768)}\n`, 'failed to parse Dockerfile: dockerfile line greater than max allowed size of 65535', 2],
  ];
  for (const [df, message, line] of cases) {
    assert.throws(() => parseDockerfile(df), (e: unknown) => {
      assert.ok(e instanceof DockerfileParseError && e instanceof InvalidArgumentError, df);
      assert.equal(e.message, message, df);
      assert.equal(e.line, line, df);
      return true;
    });
  }
  assert.throws(() => parseDockerfile('', { name: 'build/Dockerfile.dev' }), { message: 'the Dockerfile (build/Dockerfile.dev) cannot be empty' });
  // Docker 20.10's classic builder has no heredocs: the body lines are instructions.
  assert.throws(() => parseDockerfile('FROM x\nRUN <<EOF\necho\nEOF\n', { heredocs: false }),
    { message: 'dockerfile parse error line 3: unknown instruction: ECHO' });
  // validate:false keeps unknown instructions, as BuildKit's parser does.
  assert.equal(dump('BOGUS a b'), '(bogus "")\n');
});
