import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Template, TemplateError, TYPE_NAME, ORDERED, render, goJson, sprintf } from './template.ts';

const data = {
  Name: 'web',
  State: { Status: 'running', ExitCode: 0, Running: true },
  Config: { Labels: { b: '2', a: '1' }, Cmd: ['sh', '-c', 'x'], Env: null },
  Ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }] },
  Size: 88511618,
};

test('fields, nested fields, text', () => {
  assert.equal(render('{{.Name}} {{.State.Status}} {{.State.ExitCode}} {{.Size}}', data), 'web running 0 88511618');
  assert.equal(render('no actions', data), 'no actions');
  assert.equal(render('{{.}}', 'x'), 'x');
});

test('Go value printing: maps sorted, slices, nil, bools', () => {
  assert.equal(render('{{.Config.Labels}}', data), 'map[a:1 b:2]');
  assert.equal(render('{{.Config.Cmd}}', data), '[sh -c x]');
  assert.equal(render('{{.Config.Env}}', data), '<nil>');
  assert.equal(render('{{.State.Running}}', data), 'true');
});

test('json: maps sorted, <>& not escaped; formatter contexts escape', () => {
  assert.equal(render('{{json .Config.Labels}}', data), '{"a":"1","b":"2"}');
  assert.equal(render('{{json .Ports}}', data), '{"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"}]}');
  assert.equal(render('{{json .}}', { a: 'x>y&z' }), '{"a":"x>y&z"}');
  const ctx = { [TYPE_NAME]: '*formatter.ContainerContext', Ports: () => '0.0.0.0:80->80/tcp', toJSON: () => ({ Ports: '0.0.0.0:80->80/tcp' }) };
  assert.equal(render('{{json .}}', ctx), '{"Ports":"0.0.0.0:80-\\u003e80/tcp"}');
  const ordered = { [ORDERED]: true, Z: 1, A: 2 };
  assert.equal(goJson(ordered), '{"Z":1,"A":2}');
});

test('functions: join, index, len, upper, lower, title, split, printf, println, print, pad, truncate', () => {
  assert.equal(render('{{join .Config.Cmd ","}}', data), 'sh,-c,x');
  assert.equal(render('{{index .Config.Labels "a"}}', data), '1');
  assert.equal(render('{{index .Config.Cmd 1}}', data), '-c');
  assert.equal(render('{{len .Config.Cmd}}', data), '3');
  assert.equal(render('{{upper .Name}} {{lower "ABC"}} {{title "hello world"}}', data), 'WEB abc Hello World');
  assert.equal(render('{{split "a:b" ":"}}', data), '[a b]');
  assert.equal(render('{{printf "%s=%d|%-5s|%5s|%q" .Name 3 "ab" "cd" "e"}}', data), 'web=3|ab   |   cd|"e"');
  assert.equal(render('{{println .Name}}', data), 'web\n');
  assert.equal(render('{{print 1 2 "a" "b"}}', data), '1 2ab');
  assert.equal(render('{{pad .Name 1 2}}|{{truncate .Name 2}}', data), ' web  |we');
  assert.equal(render('{{.Name | upper}}', data), 'WEB');
  assert.equal(render('{{(index .Ports "80/tcp")}}', data), '[map[HostIp:0.0.0.0 HostPort:8080]]');
  assert.equal(render('{{(index (index .Ports "80/tcp") 0).HostPort}}', data), '8080');
  assert.equal(sprintf('%v %T', [1, 'x']), '1 string');
});

test('if / else if / else, with, comparisons, and/or/not', () => {
  assert.equal(render('{{if eq .State.Status "running"}}up{{else}}down{{end}}', data), 'up');
  assert.equal(render('{{if .Config.Env}}env{{else if .Config.Cmd}}cmd{{else}}none{{end}}', data), 'cmd');
  assert.equal(render('{{with .State}}{{.Status}}{{end}}', data), 'running');
  assert.equal(render('{{with .Config.Env}}x{{else}}empty{{end}}', data), 'empty');
  assert.equal(render('{{if and .State.Running (gt .Size 10)}}big{{end}}', data), 'big');
  assert.equal(render('{{if or .Config.Env (not .State.Running)}}a{{else}}b{{end}}', data), 'b');
  assert.equal(render('{{if ne .Name "x"}}ne{{end}}{{if lt 1 2}}lt{{end}}', data), 'nelt');
  assert.equal(render('{{if eq .Name "a" "web"}}any{{end}}', data), 'any');
});

test('range over slices and maps, with variables, else, $', () => {
  assert.equal(render('{{range .Config.Cmd}}[{{.}}]{{end}}', data), '[sh][-c][x]');
  assert.equal(render('{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}', data), 'a=1;b=2;');
  assert.equal(render('{{range $i, $c := .Config.Cmd}}{{$i}}{{$c}} {{end}}', data), '0sh 1-c 2x ');
  assert.equal(render('{{range .Config.Env}}x{{else}}none{{end}}', data), 'none');
  assert.equal(render('{{range .Config.Cmd}}{{$.Name}}{{end}}', data), 'webwebweb');
  assert.equal(render('{{$n := .Name}}{{$n}}!', data), 'web!');
});

test('trim markers and comments', () => {
  assert.equal(render('a  {{- .Name -}}  b', data), 'awebb');
  assert.equal(render('a{{/* comment */}}b', data), 'ab');
});

test('struct contexts: methods with arguments, unknown field error as docker prints it', () => {
  const ctx = { [TYPE_NAME]: '*formatter.ContainerContext', Names: () => 'web', Label: (k: string) => (k === 'a' ? '1' : '') };
  assert.equal(render('{{.Names}} {{.Label "a"}}|{{.Label "b"}}', ctx), 'web 1|');
  assert.throws(() => new Template('{{.Nope}}').execute(ctx),
    (e: Error) => e instanceof TemplateError && e.message === 'template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.ContainerContext');
  assert.throws(() => new Template('{{.Nope}}').execute(data),
    (e: Error) => e.message === 'template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope"');
});

test('parse errors', () => {
  assert.throws(() => new Template('{{.Name'), TemplateError);
  assert.throws(() => new Template('{{if .Name}}x'), TemplateError);
  assert.throws(() => new Template('{{nosuchfunc .Name}}'), /function "nosuchfunc" not defined/);
  assert.throws(() => new Template('{{end}}'), TemplateError);
});
