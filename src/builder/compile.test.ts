/**
 * Parsed Dockerfile → stages of commands (compileDockerfile): meta ARGs, stage names and platforms, builder
 * flags, ENV/LABEL/ARG pairs, and the errors dockerd 20.10 gives before a build starts (texts observed with
 * `DOCKER_BUILDKIT=0 docker build` against dockerd 20.10).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile, DockerfileParseError } from './dockerfile/index.ts';
import { compileDockerfile } from './compile.ts';

const compile = (text: string) => compileDockerfile(parseDockerfile(text).children);

describe('compile: stages and commands', () => {
  it('meta ARGs before the first FROM; stages with names (lower-cased), platforms and their commands', () => {
    const { metaArgs, stages } = compile('ARG A=1\nARG B\nFROM --platform=$P busybox AS Build\nRUN x\nCOPY --from=build --chown=1:2 --link a b\nFROM scratch\n');
    assert.deepEqual(metaArgs.map((m) => m.pairs), [[['A', '1']], [['B', undefined]]]);
    assert.equal(stages.length, 2);
    assert.equal(stages[0]!.base, 'busybox');
    assert.equal(stages[0]!.name, 'build');
    assert.equal(stages[0]!.platform, '$P');
    assert.deepEqual(stages[0]!.commands.map((c) => c.kind), ['RUN', 'COPY']);
    assert.deepEqual(stages[0]!.commands[1]!.flags, { from: 'build', chown: '1:2', link: 'true' });
    assert.equal(stages[1]!.name, undefined);
    assert.deepEqual(stages[1]!.commands, []);
  });

  it('ENV, LABEL and ARG pairs; keywords in any case', () => {
    const { stages } = compile('from x\nenv a=1 b="2 3"\nENV legacy v w\nLabel k=v\narg A B=2 C=\n');
    const [env, legacy, label, arg] = stages[0]!.commands;
    assert.deepEqual(env!.pairs, [['a', '1'], ['b', '"2 3"']]);
    assert.deepEqual(legacy!.pairs, [['legacy', 'v w']]);
    assert.deepEqual(label!.pairs, [['k', 'v']]);
    assert.equal(label!.kind, 'LABEL');
    assert.deepEqual(arg!.pairs, [['A', undefined], ['B', '2'], ['C', '']]);
  });

  it('stage names: letters first, then letters, digits, - _ .', () => {
    assert.equal(compile('FROM x AS a-b_c.1\n').stages[0]!.name, 'a-b_c.1');
  });
});

describe('compile: errors (dockerd 20.10\'s texts)', () => {
  const cases: [string, string, string][] = [
    ['unknown flag', 'FROM busybox:1.35\nCOPY --foo=bar a /\n', 'dockerfile parse error line 2: Unknown flag: foo'],
    ['unknown flag on FROM', 'FROM --foo=1 busybox\n', 'dockerfile parse error line 1: Unknown flag: foo'],
    ['unknown flag in an ONBUILD trigger', 'FROM x\nONBUILD COPY --foo=1 a b\n', 'dockerfile parse error line 2: Unknown flag: foo'],
    ['a string flag without a value', 'FROM x\nCOPY --from a b\n', 'dockerfile parse error line 2: Missing a value on flag: from'],
    ['a flag given twice', 'FROM x\nCOPY --chown=1 --chown=2 a b\n', 'dockerfile parse error line 2: Duplicate flag specified: chown'],
    ['a bool flag with a bad value', 'FROM x\nCOPY --link=maybe a b\n', 'dockerfile parse error line 2: expecting boolean value for flag link, not: maybe'],
    ['SHELL not JSON', 'FROM busybox:1.35\nSHELL /bin/bash -c\n', 'dockerfile parse error line 2: SHELL requires the arguments to be in JSON form'],
    ['a bad stage name', 'FROM busybox:1.35 AS 1bad\n', 'dockerfile parse error line 1: invalid name for build stage: "1bad", name can\'t start with a number or contain symbols'],
    ['a stage name with symbols', 'FROM x AS a$b\n', 'dockerfile parse error line 1: invalid name for build stage: "a$b", name can\'t start with a number or contain symbols'],
    // dockerd 20.10 answers `no build stage in current context` with no line prefix
    ['an instruction before FROM', 'RUN true\nFROM busybox:1.35\n', 'no build stage in current context'],
  ];
  for (const [what, text, msg] of cases) {
    it(what, () => {
      assert.throws(() => compile(text), (e: Error) => e instanceof DockerfileParseError && e.message === msg, `expected: ${msg}`);
    });
  }
});
