/** docker-py 5 (python3-docker) drives the daemon: ping, version, run; exec, volumes, stats, update, commit, archives, logs; networks. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, integrationSkip, type Daemon } from '../helpers/daemon.ts';

const SCRIPT = `
import docker, json, sys
c = docker.DockerClient(base_url=sys.argv[1])
out = {"ping": c.ping(), "api": c.version()["ApiVersion"]}
out["run"] = c.containers.run("busybox:1.35", ["echo", "hello from py"], remove=True).decode()
ctr = c.containers.run("busybox:1.35", ["sh", "-c", "exit 4"], detach=True)
out["wait"] = ctr.wait()["StatusCode"]
ctr.remove()
try:
    c.containers.get("nosuch")
except docker.errors.NotFound as e:
    out["notfound"] = e.explanation
out["images"] = sorted(t for i in c.images.list() for t in i.tags)
print(json.dumps(out))
`;

describe('docker-py', { skip: integrationSkip() }, () => {
  let d: Daemon;
  before(async () => {
    d = await startDaemon();
    await d.load('busybox');
  });
  after(() => d?.cleanup());

  it('ping, version, run, wait, NotFound, images', async () => {
    const r = await d.exec('python3', ['-c', SCRIPT, d.host]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(out.ping, true);
    assert.ok(Number(out.api) >= 1.41);
    assert.equal(out.run, 'hello from py\n');
    assert.equal(out.wait, 4);
    assert.equal(out.notfound, 'No such container: nosuch');
    assert.deepEqual(out.images, ['busybox:1.35', 'busybox:latest']);
  });

  it('containers in full: exec_run, volumes, stats, update, put/get_archive, commit, logs, restart policy', async () => {
    const script = `
import docker, json, sys, io, tarfile
c = docker.DockerClient(base_url=sys.argv[1])
out = {}
v = c.volumes.create("pyvol", labels={"k": "v"})
out["vol"] = [v.name, v.attrs["Labels"], v.attrs["Mountpoint"].endswith("/volumes/pyvol/_data")]
ctr = c.containers.run("busybox:1.35", ["sleep", "1000"], detach=True, name="py", volumes={"pyvol": {"bind": "/data", "mode": "rw"}},
                       restart_policy={"Name": "on-failure", "MaximumRetryCount": 2}, mem_limit="64m")
r = ctr.exec_run(["sh", "-c", "echo out; echo err >&2; exit 3"], demux=True)
out["exec"] = [r.exit_code, r.output[0].decode(), r.output[1].decode()]
out["exec_env"] = ctr.exec_run("sh -c 'echo $X'", environment={"X": "1"}, user="nobody", workdir="/tmp").output.decode()
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as t:
    data = b"put via py\\n"
    ti = tarfile.TarInfo("hello.txt"); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
out["put"] = ctr.put_archive("/data", buf.getvalue())
bits, stat = ctr.get_archive("/data/hello.txt")
t = tarfile.open(fileobj=io.BytesIO(b"".join(bits)))
out["get"] = [stat["name"], t.extractfile("hello.txt").read().decode()]
s = ctr.stats(stream=False)
out["stats"] = [s["memory_stats"]["limit"], s["pids_stats"]["current"] >= 1, "cpu_usage" in s["cpu_stats"]]
ctr.update(mem_limit="128m", memswap_limit="256m")
ctr.reload()
out["update"] = ctr.attrs["HostConfig"]["Memory"]
img = ctr.commit(repository="pyimg", tag="v1", message="from py")
out["commit"] = [img.tags, img.attrs["Comment"]]
out["logs"] = c.containers.run("busybox:1.35", ["sh", "-c", "echo a; echo b >&2"], remove=False, name="lg", stderr=True).decode()
out["restart"] = ctr.attrs["HostConfig"]["RestartPolicy"]
ctr.remove(force=True)
v.remove()
print(json.dumps(out))
`;
    const r = await d.exec('python3', ['-c', script, d.host]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual(out.vol, ['pyvol', { k: 'v' }, true]);
    assert.deepEqual(out.exec, [3, 'out\n', 'err\n']);
    assert.equal(out.exec_env, '1\n');
    assert.equal(out.put, true);
    assert.deepEqual(out.get, ['hello.txt', 'put via py\n']);
    assert.deepEqual(out.stats, [64 * 1024 * 1024, true, true]);
    assert.equal(out.update, 128 * 1024 * 1024);
    assert.deepEqual(out.commit, [['pyimg:v1'], 'from py']);
    assert.equal(out.logs, 'a\nb\n');
    assert.deepEqual(out.restart, { Name: 'on-failure', MaximumRetryCount: 2 });
  });

  it('networks: create with IPAM, run on it with an alias, resolve, ports, connect/disconnect, list, remove', async () => {
    const script = `
import docker, json, sys
c = docker.DockerClient(base_url=sys.argv[1])
out = {}
ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet="10.33.0.0/24", gateway="10.33.0.1")])
n = c.networks.create("pynet", driver="bridge", ipam=ipam, labels={"team": "py"})
out["net"] = [n.name, n.attrs["IPAM"]["Config"], n.attrs["Labels"]]
srv = c.containers.run("busybox:1.35", ["sleep", "1000"], detach=True, name="pysrv", network="pynet", ports={"80/tcp": 8088})
srv.reload()
out["ip"] = srv.attrs["NetworkSettings"]["Networks"]["pynet"]["IPAddress"]
out["ports"] = srv.attrs["NetworkSettings"]["Ports"]
out["lookup"] = c.containers.run("busybox:1.35", ["nslookup", "pysrv"], network="pynet", remove=True).decode().count("10.33.0.2")
n.reload()
out["members"] = [x.name for x in n.containers]
other = c.containers.run("busybox:1.35", ["sleep", "1000"], detach=True, name="pyother")
n.connect(other, aliases=["extra"])
other.reload()
out["connected"] = sorted(other.attrs["NetworkSettings"]["Networks"].keys())
n.disconnect(other)
out["listed"] = [x.name for x in c.networks.list(names=["pynet"])]
for x in (srv, other): x.remove(force=True)
n.remove()
out["gone"] = [x.name for x in c.networks.list(names=["pynet"])]
print(json.dumps(out))
`;
    const r = await d.exec('python3', ['-c', script, d.host]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual(out.net, ['pynet', [{ Subnet: '10.33.0.0/24', Gateway: '10.33.0.1' }], { team: 'py' }]);
    assert.equal(out.ip, '10.33.0.2');
    assert.deepEqual(out.ports, { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8088' }, { HostIp: '::', HostPort: '8088' }] });
    assert.equal(out.lookup, 1);
    assert.deepEqual(out.members, ['pysrv']);
    assert.deepEqual(out.connected, ['bridge', 'pynet']);
    assert.deepEqual(out.listed, ['pynet']);
    assert.deepEqual(out.gone, []);
  });
});
