/**
 * The seed notes' Dockerfiles (mission seeds 000-002, Chinese Docker course notes) through the parser, checked
 * against BuildKit's AST dump format (frontend/dockerfile/parser/testfiles/<name>/result). The two long ones
 * (mysql 8.0 from seed 001, the C-built nginx multi-stage from seed 002) are kept as testdata/seeds/<name>/
 * Dockerfile + result, as BuildKit keeps its cases; the others are inline.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseDockerfile, dumpAst, DockerfileParseError } from './index.ts';

const dump = (lines: string[]): string => dumpAst(parseDockerfile(lines.join('\n') + '\n'));

test('seed 000: the layered nginx build (base → nginx → web), as the notes build it', () => {
  // the notes' first attempt: 11 steps on ubuntu, the nginx source compiled in the image
  const nginx = [
    'FROM ubuntu:22.04:jammy-20221020',
    'LABEL maintainer="user1 ws@qq.com"',
    'ADD sources.list /etc/apt/sources.list',
    'RUN apt update && apt install -y iproute2 ntpdate tcpdump telnet traceroute  multiarch-support libtirpc1 initscripts libgssglue1  rpcbind  python nfs-kernel-server nfs-common lrzsz tree openssl zlib1g-dev libssl-dev libpcre3 libpcre3-dev  ntpdate gcc openssh-server lrzsz iotop unzip zip make',
    'ADD nginx-1.22.1.tar.gz /usr/local/src/',
    'RUN cd /usr/local/src/nginx-1.22.1 && ./configure --prefix=/apps/nginx && make && make install && ln -sv /apps/nginx/sbin/nginx /usr/bin',
    'RUN groupadd -g 2088 nginx && useradd -g nginx -s /usr/sbin/nologin -u 2088 nginx && chown -R nginx.nginx /apps/nginx',
    'ADD nginx.conf /apps/nginx/conf/',
    'ADD frontend.tar.gz /apps/nginx/html/',
    'EXPOSE 80 443',
    'CMD ["nginx"]',
  ];
  // the reference is checked when the image is pulled, not when the file is parsed
  assert.equal(dump(nginx), [
    '(from "ubuntu:22.04:jammy-20221020")',
    '(label "maintainer" "\\"user1 ws@qq.com\\"" "=")',
    '(add "sources.list" "/etc/apt/sources.list")',
    '(run "apt update && apt install -y iproute2 ntpdate tcpdump telnet traceroute  multiarch-support libtirpc1 initscripts libgssglue1  rpcbind  python nfs-kernel-server nfs-common lrzsz tree openssl zlib1g-dev libssl-dev libpcre3 libpcre3-dev  ntpdate gcc openssh-server lrzsz iotop unzip zip make")',
    '(add "nginx-1.22.1.tar.gz" "/usr/local/src/")',
    '(run "cd /usr/local/src/nginx-1.22.1 && ./configure --prefix=/apps/nginx && make && make install && ln -sv /apps/nginx/sbin/nginx /usr/bin")',
    '(run "groupadd -g 2088 nginx && useradd -g nginx -s /usr/sbin/nologin -u 2088 nginx && chown -R nginx.nginx /apps/nginx")',
    '(add "nginx.conf" "/apps/nginx/conf/")',
    '(add "frontend.tar.gz" "/apps/nginx/html/")',
    '(expose "80" "443")',
    '(cmd "nginx")',
    '',
  ].join('\n'));
  assert.equal(parseDockerfile(nginx.join('\n')).children.length, 11);

  // the layered form, adapted to the offline fixtures: each image FROM the one before
  const base = ['FROM debian:bookworm-slim', 'LABEL layer=base', 'RUN mkdir -p /apps && echo base > /apps/base.txt', 'ENV TZ=Asia/Shanghai'];
  const web = [
    'FROM berth-seed/base:1',
    'COPY --chown=101:101 index.html /usr/share/nginx/html/index.html',
    'COPY nginx.conf /etc/nginx/conf.d/default.conf',
    'EXPOSE 80',
    'STOPSIGNAL SIGQUIT',
    'CMD ["nginx", "-g", "daemon off;"]',
  ];
  assert.equal(dump(base), '(from "debian:bookworm-slim")\n(label "layer" "base" "=")\n(run "mkdir -p /apps && echo base > /apps/base.txt")\n(env "TZ" "Asia/Shanghai" "=")\n');
  assert.equal(dump(web), [
    '(from "berth-seed/base:1")',
    '(copy ["--chown=101:101"] "index.html" "/usr/share/nginx/html/index.html")',
    '(copy "nginx.conf" "/etc/nginx/conf.d/default.conf")',
    '(expose "80")',
    '(stopsignal "SIGQUIT")',
    '(cmd "nginx" "-g" "daemon off;")',
    '',
  ].join('\n'));
});

test('seed 001: the springboot image (MAINTAINER, LABEL pairs, exec-form CMD)', () => {
  assert.equal(dump([
    'FROM openjdk:8',
    'MAINTAINER itcrazy2016',
    'LABEL name="dockerfile-demo" version="1.0" author="itcrazy2016"',
    'COPY dockerfile-demo-0.0.1-SNAPSHOT.jar dockerfile-image.jar',
    'CMD ["java","-jar","dockerfile-image.jar"]',
  ]), [
    '(from "openjdk:8")',
    '(maintainer "itcrazy2016")',
    '(label "name" "\\"dockerfile-demo\\"" "=" "version" "\\"1.0\\"" "=" "author" "\\"itcrazy2016\\"" "=")',
    '(copy "dockerfile-demo-0.0.1-SNAPSHOT.jar" "dockerfile-image.jar")',
    '(cmd "java" "-jar" "dockerfile-image.jar")',
    '',
  ].join('\n'));
  // the instruction examples of the same notes: the legacy `ENV key value` form dumps with "" (no `=`)
  assert.equal(dump(['FROM ubuntu:14.04', 'RUN groupadd -r mysql && useradd -r -g mysql mysql', 'ENV MYSQL_MAJOR 5.7', 'LABEL email="zhangsan@163.com"']),
    '(from "ubuntu:14.04")\n(run "groupadd -r mysql && useradd -r -g mysql mysql")\n(env "MYSQL_MAJOR" "5.7" "")\n(label "email" "\\"zhangsan@163.com\\"" "=")\n');
});

test('seed 002: the Go builds, single and multi-stage (comments between stages, `as` in lower case, --from by name)', () => {
  assert.equal(dump([
    '# cat Dockerfile',
    'FROM golang:1.18-alpine',
    'COPY hello.go /',
    '# WORKDIR /',
    'RUN cd / && go build hello.go',
    'CMD ["/hello"]',
  ]), '(from "golang:1.18-alpine")\n(copy "hello.go" "/")\n(run "cd / && go build hello.go")\n(cmd "/hello")\n');
  const multi = [
    '# cp Dockerfile Dockerfile-v1.0',
    '# vim Dockerfile',
    'FROM golang:1.18-alpine as builder',
    'COPY hello.go /opt',
    'WORKDIR /opt',
    'RUN go build hello.go',
    '',
    'FROM alpine:3.15.0',
    '#FROM scratch',
    'COPY --from=builder /opt/hello /hello',
    '#COPY --from=0 /opt/hello /hello',
    'CMD ["/hello"]',
  ];
  assert.equal(dump(multi), [
    '(from "golang:1.18-alpine" "as" "builder")',
    '(copy "hello.go" "/opt")',
    '(workdir "/opt")',
    '(run "go build hello.go")',
    '(from "alpine:3.15.0")',
    '(copy ["--from=builder"] "/opt/hello" "/hello")',
    '(cmd "/hello")',
    '',
  ].join('\n'));
  const r = parseDockerfile(multi.join('\n'));
  assert.deepEqual(r.children.map((n) => n.startLine), [3, 4, 5, 6, 8, 10, 12]);
});

test('seed 002: the node/nginx multi-stage build that --target build stops in', () => {
  assert.equal(dump([
    'FROM node:16 AS build',
    'WORKDIR /app',
    'COPY package.json .',
    'RUN npm install',
    'COPY . .',
    'RUN npm run build',
    '',
    'FROM nginx:alpine',
    'COPY --from=build /app/dist /usr/share/nginx/html',
  ]), [
    '(from "node:16" "AS" "build")',
    '(workdir "/app")',
    '(copy "package.json" ".")',
    '(run "npm install")',
    '(copy "." ".")',
    '(run "npm run build")',
    '(from "nginx:alpine")',
    '(copy ["--from=build"] "/app/dist" "/usr/share/nginx/html")',
    '',
  ].join('\n'));
});

test('seeds 001 and 002, long files: mysql 8.0 (comments inside continuations) and the C-built nginx (ARG before FROM, --from=0)', () => {
  const dir = join(import.meta.dirname, 'testdata', 'seeds');
  const names = readdirSync(dir).sort();
  assert.deepEqual(names, ['001-mysql-8.0', '002-nginx-c-multistage']);
  for (const n of names) {
    const df = readFileSync(join(dir, n, 'Dockerfile'), 'utf8');
    assert.equal(dumpAst(parseDockerfile(df)), readFileSync(join(dir, n, 'result'), 'utf8'), n);
  }
  // what the golden files pin down, spelled out
  const mysql = parseDockerfile(readFileSync(join(dir, '001-mysql-8.0', 'Dockerfile'), 'utf8'));
  const run = mysql.children.find((c) => c.original.includes('pwgen'))!;
  assert.equal(run.args[0], 'apt-get update && apt-get install -y --no-install-recommends \t\tpwgen \t\topenssl \t\tperl \t&& rm -rf /var/lib/apt/lists/*');
  assert.deepEqual(mysql.children.filter((c) => c.value.toLowerCase() === 'env').map((c) => c.args), [['GOSU_VERSION', '1.7', ''], ['MYSQL_MAJOR', '8.0', ''], ['MYSQL_VERSION', '8.0.18-1debian9', '']]);
  const c = parseDockerfile(readFileSync(join(dir, '002-nginx-c-multistage', 'Dockerfile'), 'utf8'));
  assert.deepEqual(c.children.map((x) => x.value), ['ARG', 'FROM', 'LABEL', 'ENV', 'ENV', 'ADD', 'RUN', 'COPY', 'FROM', 'ENV', 'COPY', 'RUN', 'EXPOSE', 'CMD']);
  assert.ok(!c.children[11]!.args[0]!.includes('#'), 'the comment line inside the continuation is dropped');
});

test('seed 004: the redis RUN whose continuation breaks off fails with Docker\'s line-numbered error', () => {
  const df = [
    'FROM debian:stretch',
    '',
    "RUN buildDeps='gcc libc6-dev make wget' \\",
    '    && apt-get update \\',
    '    && apt-get clean',
    '    && rm -rf /var/lib/apt/lists/*',
  ].join('\n');
  assert.throws(() => parseDockerfile(df), (e: unknown) => e instanceof DockerfileParseError && e.line === 6
    && e.message === 'dockerfile parse error line 6: unknown instruction: &&');
});
