/** Block I/O flags of create/run: the body equals the docker 20.10 CLI's (testdata/create-blkio.json), and its flag errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseRunArgs } from './main.ts';
import { buildCreate, type RunOpts } from './run-opts.ts';

function body(argv: string[]): string {
  const { args, opts } = parseRunArgs(argv);
  return JSON.stringify(buildCreate(opts as RunOpts, args[0]!, args.slice(1)).body);
}

test('--blkio-weight, --blkio-weight-device, --device-{read,write}-{bps,iops}', () => {
  const want = readFileSync(new URL('testdata/create-blkio.json', import.meta.url), 'utf8').trim();
  assert.equal(body(['--blkio-weight', '300', '--blkio-weight-device', '/dev/sda:200', '--device-read-bps', '/dev/sda:1mb', '--device-write-bps', '/dev/sda:2048',
    '--device-read-iops', '/dev/sda:100', '--device-write-iops', '/dev/sdb:5', 'busybox']), want);
});

test('block I/O flag errors read as the docker CLI\'s', () => {
  const cases: Array<[string[], string]> = [
    [['--device-read-bps', 'sda:1mb'], 'invalid argument "sda:1mb" for "--device-read-bps" flag: bad format for device path: sda:1mb'],
    [['--device-read-bps', '/dev/sda'], 'invalid argument "/dev/sda" for "--device-read-bps" flag: bad format: /dev/sda'],
    [['--device-read-bps', '/dev/sda:x'], 'invalid argument "/dev/sda:x" for "--device-read-bps" flag: invalid rate for device: /dev/sda:x. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb'],
    [['--device-read-iops', '/dev/sda:1k'], 'invalid argument "/dev/sda:1k" for "--device-read-iops" flag: invalid rate for device: /dev/sda:1k. The correct format is <device-path>:<number>. Number must be a positive integer'],
    [['--blkio-weight-device', '/dev/sda:5'], 'invalid argument "/dev/sda:5" for "--blkio-weight-device" flag: invalid weight for device: /dev/sda:5'],
    [['--blkio-weight', 'x'], 'invalid argument "x" for "--blkio-weight" flag: strconv.ParseUint: parsing "x": invalid syntax'],
    [['--blkio-weight', '70000'], 'invalid argument "70000" for "--blkio-weight" flag: strconv.ParseUint: parsing "70000": value out of range'],
  ];
  for (const [flags, msg] of cases) assert.throws(() => body([...flags, 'busybox']), (e: Error) => e.message === msg, msg);
});
